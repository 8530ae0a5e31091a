// Runs every compiled example under dist/examples (node dist/examples/<name>.js)
// and checks its exit code and the lines that carry its point. quickstart
// runs alone first; the others then run concurrently (started in before()),
// so the suite takes about as long as the slowest one: daemon_process, whose
// main process sleeps 11 s as in the Python example. Lines from different
// processes are matched anywhere in the output;
// an order is asserted only where it is causal (within one process, or a
// parent's line after join()).
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const EXAMPLES_DIR = path.join(__dirname, '..', 'examples');
const RUN_TIMEOUT_MS = 30_000;

interface ExampleRun {
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  lines: string[];
  ms: number;
}

function runExample(name: string): Promise<ExampleRun> {
  const file = path.join(EXAMPLES_DIR, `${name}.js`);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [file],
      { timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL', encoding: 'utf8', maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        resolve({
          pid: child.pid,
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : null,
          signal: error?.signal ?? null,
          stdout,
          // A failure to run node at all, or the timeout, is said only by the error.
          stderr: error !== null && typeof error.code !== 'number' ? `${stderr}\n${error.message}` : stderr,
          lines: stdout.split('\n').filter((line) => line.length > 0),
          ms: Date.now() - started,
        });
      },
    );
  });
}

const NAMES = [
  'atomics',
  'quickstart',
  'process_sequential_runs',
  'process_target_args',
  'join_waits_for_child',
  'current_process_pid',
  'daemon_process',
  'fork_copies_globals',
  'process_pid_and_name',
  'manager_lock_list',
  'manager_shared_list',
  'pool_apply_async',
  'pool_map',
  'pool_maxtasksperchild',
  'process_attributes',
  'queue_and_pipe',
  'queue_get_before_join',
  'queue_drain_before_join',
  'parent_runs_while_child_works',
  'shared_state_value_array',
  'set_start_method',
  'process_subclass',
  'process_subclass_with_state',
  'sync_primitives_tour',
  'process_terminate',
  'process_start_join',
] as const;
type ExampleName = (typeof NAMES)[number];

const runs = new Map<ExampleName, Promise<ExampleRun>>();

/** The run of an example, asserting it exited with code 0. */
async function ok(name: ExampleName): Promise<ExampleRun> {
  const promise = runs.get(name);
  assert.ok(promise, `example ${name} was not started`);
  const run = await promise;
  assert.equal(
    run.code,
    0,
    `${name} exited with code ${run.code} (signal ${run.signal}) after ${run.ms} ms\n` +
      `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`,
  );
  return run;
}

/** Index of the one line equal to `line` (or matching it); fails if there is none or several. */
function lineIndex(run: ExampleRun, line: string | RegExp): number {
  const found = run.lines.flatMap((l, i) => ((typeof line === 'string' ? l === line : line.test(l)) ? [i] : []));
  assert.equal(found.length, 1, `expected exactly one line ${String(line)} in:\n${run.stdout}`);
  return found[0];
}

function hasLines(run: ExampleRun, ...lines: Array<string | RegExp>): number[] {
  return lines.map((line) => lineIndex(run, line));
}

function assertOrdered(indexes: number[]): void {
  for (let i = 1; i < indexes.length; i++) {
    assert.ok(indexes[i - 1] < indexes[i], `lines out of order: ${indexes.join(', ')}`);
  }
}

function lacks(run: ExampleRun, text: string): void {
  assert.ok(!run.stdout.includes(text), `did not expect ${JSON.stringify(text)} in:\n${run.stdout}`);
}

/** The number a line ends with, e.g. a pid. */
function numberAfter(run: ExampleRun, prefix: string): number {
  const line = run.lines[lineIndex(run, new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\d+$`))];
  return Number(line.slice(prefix.length));
}

describe('examples', function () {
  this.timeout(RUN_TIMEOUT_MS + 10_000);

  before(() => {
    for (const name of NAMES) {
      assert.ok(fs.existsSync(path.join(EXAMPLES_DIR, `${name}.js`)), `dist/examples/${name}.js is missing: build first`);
    }
  });

  before(async () => {
    // quickstart promises to finish in under a second: run it alone first, so
    // the others starting at the same time do not slow it down.
    const quickstart = runExample('quickstart');
    runs.set('quickstart', quickstart);
    await quickstart;
    for (const name of NAMES) if (!runs.has(name)) runs.set(name, runExample(name));
  });

  after(async () => {
    // Let every run finish (each is bounded by RUN_TIMEOUT_MS) so none outlives the suite.
    await Promise.all(runs.values());
  });

  it('every example in examples/ is run by this test', () => {
    const compiled = fs
      .readdirSync(EXAMPLES_DIR)
      .filter((f) => f.endsWith('.js'))
      .map((f) => f.slice(0, -3))
      .sort();
    assert.deepEqual(compiled, [...NAMES].sort());
  });

  it('quickstart: pids, names, exit codes, and a global the children change only in their copies', async () => {
    const run = await ok('quickstart');
    const mainPid = run.pid;
    lineIndex(run, new RegExp(`^\\[MainProcess\\] pid=${mainPid}, start method 'fork', \\d+ CPUs$`));
    const before = lineIndex(run, '[MainProcess] counter = 0 before starting the children');
    const childLines = hasLines(
      run,
      new RegExp(`^  \\[worker-1\\] pid=\\d+ parent pid=${mainPid}: counter 0 -> 1$`),
      new RegExp(`^  \\[worker-2\\] pid=\\d+ parent pid=${mainPid}: counter 0 -> 2$`),
      new RegExp(`^  \\[Process-3\\] pid=\\d+ parent pid=${mainPid}: counter 0 -> 3$`),
    );
    const codes = hasLines(
      run,
      /^\[MainProcess\] worker-1 +pid=\d+ exitCode=0$/,
      /^\[MainProcess\] worker-2 +pid=\d+ exitCode=0$/,
      /^\[MainProcess\] Process-3 +pid=\d+ exitCode=3$/,
      /^\[MainProcess\] sleeper +pid=\d+ exitCode=-15$/,
    );
    const after = lineIndex(run, '[MainProcess] counter = 0 after the children (each changed only its own copy)');
    assertOrdered([before, ...codes, after]);
    for (const i of childLines) assert.ok(i < codes[0], 'a child line came after the parent joined it');
    lineIndex(run, '[MainProcess] sleeper isAlive() = true; terminating it');
    // Each child's pid: distinct, and not the main process's.
    const pids = run.lines
      .filter((l) => /^\[MainProcess\] \S+ +pid=\d+ exitCode=/.test(l))
      .map((l) => Number(/pid=(\d+)/.exec(l)?.[1]));
    assert.equal(new Set(pids).size, 4);
    assert.ok(!pids.includes(mainPid ?? -1));
    const ms = Number(/^\[MainProcess\] done in (\d+) ms$/.exec(run.lines[run.lines.length - 1])?.[1]);
    assert.ok(ms < 1_000, `quickstart took ${ms} ms`);
  });

  it('process_sequential_runs: two processes print 200 and 310, one after the other', async () => {
    const run = await ok('process_sequential_runs');
    assertOrdered(hasLines(run, 'Processed number: 200', 'Processed number: 310'));
    assert.equal(run.lines.length, 2);
  });

  it('process_target_args: greeting("Nam", 0.5) in a child', async () => {
    const run = await ok('process_target_args');
    assert.deepEqual(run.lines, ['Xin chào Nam từ tiến trình con!']);
    assert.ok(run.ms >= 500, `finished in ${run.ms} ms, before the child's 0.5 s delay`);
  });

  it('join_waits_for_child: the child prints its lines, then the parent after join()', async () => {
    const run = await ok('join_waits_for_child');
    assert.deepEqual(run.lines, [
      'Currently Executing Child Process',
      "This process has it's own instance of the GIL",
      'Executing Main Process',
      'Creating Child Process',
      'Child Process has terminated, terminating main process',
    ]);
  });

  it('current_process_pid: prints the pid of the main process', async () => {
    const run = await ok('current_process_pid');
    assert.deepEqual(run.lines, [String(run.pid)]);
  });

  it('daemon_process: a daemonic child runs in the background and finishes within the main 11 s', async () => {
    const run = await ok('daemon_process');
    const daemonLines = hasLines(
      run,
      'Starting my Daemon Process',
      /^Daemon process started:<Process name='Process-1'.* started daemon>$/,
      'Daemon process terminating',
      /^Main process: <Process name='Process-1'.* started daemon>$/,
    );
    assertOrdered(daemonLines);
    lineIndex(run, 'We can carry on as per usual and our daemon will continue to execute');
    assert.ok(run.ms >= 11_000, `the main process ended after ${run.ms} ms, before its 11 s sleep`);
  });

  it('fork_copies_globals: children see the globals as at start() and their changes stay in the child', async () => {
    const run = await ok('fork_copies_globals');
    assert.deepEqual(run.lines, [
      '[parent] before start: counter=10 history=["parent"]',
      '[child-1] sees counter=10 history=["parent"]',
      '[child-1] changed counter to 11 history=["parent","child-1"]',
      '[parent] child-1 exited with code 0',
      '[child-2] sees counter=10 history=["parent"]',
      '[child-2] changed counter to 11 history=["parent","child-2"]',
      '[parent] child-2 exited with code 0',
      '[parent] after join: counter=10 history=["parent"]',
    ]);
  });

  it('process_pid_and_name: the child reports its own pid and the name it was given', async () => {
    const run = await ok('process_pid_and_name');
    const mainPid = numberAfter(run, 'Main process PID: ');
    assert.equal(mainPid, run.pid);
    const childPid = numberAfter(run, 'Child Process With PID: ');
    assert.notEqual(childPid, mainPid);
    assertOrdered(
      hasLines(run, `Child Process With PID: ${childPid}`, 'My-child-process Just performed X', 'Child process terminating'),
    );
    assert.ok(run.ms >= 3_000, `finished in ${run.ms} ms, before the child's 3 s sleep`);
  });

  it('process_attributes: name, pid, daemon, isAlive, exitCode and the utilities', async () => {
    const run = await ok('process_attributes');
    assert.deepEqual(run.lines, [
      'cpuCount() > 0: true',
      'currentProcess().name=MainProcess parentProcess()=null',
      'before start: name=Process-1 pid=null daemon=false isAlive=false exitCode=null',
      '[child] currentProcess().name=Process-1 parentProcess().name=MainProcess',
      'after join: exitCode=0 isAlive=false',
      'Process-2 raised: exitCode=1',
      'running: name=sleeper daemon=true isAlive=true exitCode=null',
      'activeChildren(): sleeper',
      'killed: exitCode=-9 isAlive=false',
      'activeChildren() after join: []',
    ]);
    assert.match(run.stderr, /^Process Process-2:\n.*Error: failure in the child/m);
  });

  it('parent_runs_while_child_works: the child runs task() for 1 s while the parent waits', async () => {
    const run = await ok('parent_runs_while_child_works');
    assertOrdered(hasLines(run, 'Tiến trình con đang chạy...', 'Tiến trình con hoàn tất.'));
    lineIndex(run, 'Tiến trình chính đang chờ...');
    assert.equal(run.lines.length, 3);
    assert.ok(run.ms >= 1_000, `finished in ${run.ms} ms, before the child's 1 s sleep`);
  });

  it("set_start_method: the child reports 'fork'", async () => {
    const run = await ok('set_start_method');
    assert.deepEqual(run.lines, ['Start method: fork']);
  });

  it('process_subclass: run() of a Process subclass executes in the child', async () => {
    const run = await ok('process_subclass');
    assert.equal(run.lines.length, 2);
    const mainPid = numberAfter(run, 'Main Process PID: ');
    const childPid = numberAfter(run, 'Child process PID: ');
    assert.equal(mainPid, run.pid);
    assert.notEqual(childPid, mainPid);
  });

  it("process_subclass_with_state: the subclass's own state reaches run() in the child", async () => {
    const run = await ok('process_subclass_with_state');
    assert.deepEqual(run.lines, ['Worker A-1 đang xử lý công việc...']);
  });

  it('process_terminate: the child is terminated before its 20 s sleep ends (exit code -15)', async () => {
    const run = await ok('process_terminate');
    assertOrdered(
      hasLines(
        run,
        'My Process has terminated, terminating main thread',
        'Terminating Child Process',
        'Child Process Successfully terminated',
        'Child Process exit code: -15',
      ),
    );
    // The child may or may not print its first line before SIGTERM; never its second.
    lacks(run, 'Main process PID:');
    assert.ok(run.ms < 20_000, `took ${run.ms} ms: the child was not terminated`);
  });

  it('process_start_join: worker() runs in a separate process', async () => {
    const run = await ok('process_start_join');
    assert.deepEqual(run.lines, ['Виконую роботу в окремому процесі']);
  });
  it('sync_primitives_tour: a Lock, an RLock, a Semaphore(4), an Event and a Barrier between processes', async () => {
    const run = await ok('sync_primitives_tour');
    const critical = run.lines.filter((l) => l.startsWith('Chỉ một process được in dòng này tại một thời điểm (Process-'));
    assert.equal(critical.length, 3);
    hasLines(run, 'RLock: đệ quy 3 lần, không bị treo');
    const db = run.lines.filter((l) => /^Process-\d+: kết nối DB \(đang dùng: \d\/4\)$/.test(l));
    assert.equal(db.length, 8);
    for (const line of db) assert.ok(Number(/(\d)\/4/.exec(line)?.[1]) <= 4, line);
    assertOrdered(hasLines(run, 'Process 1: chờ (event.wait())', 'Process 1: được đánh thức'));
    hasLines(run, 'Process 2: event.set()');
    const met = run.lines.filter((l) => /^Process-\d+ đi tiếp sau điểm hẹn \(thứ tự [0-2]\)$/.test(l));
    assert.deepEqual(met.map((l) => l.slice(-2, -1)).sort(), ['0', '1', '2']);
  });
  it('atomics: four processes add to one word with Atomics; the parent sleeps on another until they are done', async () => {
    const run = await ok('atomics');
    assert.deepEqual(run.lines, ['4 processes × 100000 Atomics.add: 400000 (expected 400000)']);
  });

  it('shared_state_value_array: Value under its lock, Array, RawArray/RawValue and a SharedMemory block between processes', async () => {
    const run = await ok('shared_state_value_array');
    assert.deepEqual(run.lines, [
      'Value under its lock: 4000 (expected 4000)',
      'Array changed by the child: [1,4,9,16,25]',
      'RawArray without a lock: [0.5,0.5,0.5], flag 1',
      'SharedMemory of 1000000 doubles summed by the child without a copy: 2000000',
    ]);
  });

  it('pool_map: map in a pool of 5, of 4 closed and joined by hand, and of a function returning nothing', async () => {
    const run = await ok('pool_map');
    assertOrdered(hasLines(run, '[1,4,9]', 'Input: [1,2,3,4,5]', 'Squared: [1,4,9,16,25]', '[ undefined, undefined, undefined ]'));
    assert.equal(run.lines.filter((l) => /^Executed by process \d+$/.test(l)).length, 5);
    hasLines(run, '2', '3', '4');
  });

  it('pool_apply_async: four tasks submitted at once, each result read with wait() and get()', async () => {
    const run = await ok('pool_apply_async');
    assertOrdered(hasLines(run, 'apply_async', 'Result: 0', 'Result: 2', 'Result: 4', 'Result: 6', 'Done'));
    assert.equal(run.lines.filter((l) => /^Task processed by Process \d+$/.test(l)).length, 4);
  });

  it('pool_maxtasksperchild: ten tasks on two workers recycled after three tasks each', async () => {
    const run = await ok('pool_maxtasksperchild');
    hasLines(run, 'Results: [0,1,4,9,16,25,36,49,64,81]');
    const perPid = new Map<string, number>();
    for (const line of run.lines) {
      const m = /^Process (\d+) handling task \d+$/.exec(line);
      if (m) perPid.set(m[1], (perPid.get(m[1]) ?? 0) + 1);
    }
    assert.equal([...perPid.values()].reduce((a, b) => a + b, 0), 10);
    assert.ok(perPid.size >= 4, `saw ${perPid.size} workers`);
    for (const [pid, n] of perPid) assert.ok(n <= 3, `worker ${pid} ran ${n} tasks`);
    hasLines(run, new RegExp(`^${perPid.size} worker processes ran the 10 tasks, at most [1-3] each \\(maxtasksperchild=3\\)$`));
  });

  it('queue_and_pipe: [42, null, "hello"] through a Queue and through a Pipe', async () => {
    const run = await ok('queue_and_pipe');
    assert.deepEqual(run.lines, ['[42,null,"hello"]', '[42,null,"hello"]']);
  });

  it('queue_get_before_join: the child\'s "Hello from child" read before join()', async () => {
    const run = await ok('queue_get_before_join');
    assert.deepEqual(run.lines, ['Hello from child']);
  });

  it('queue_drain_before_join: join() first works for a small item and waits in vain for a big one', async () => {
    const run = await ok('queue_drain_before_join');
    assert.deepEqual(run.lines, [
      'small item, join first: exitCode=0, then got "Дані від процесу"',
      'big item, join first: still running after 1000 ms (exitCode=null)',
      'big item, get first: got 10000000 characters, then joined (exitCode=0)',
    ]);
  });

  it('manager_shared_list: the list a child appended to, printed by the parent', async () => {
    const run = await ok('manager_shared_list');
    assert.deepEqual(run.lines, ['["Дані від процесу"]']);
  });

  it('manager_lock_list: ten processes append under a Lock; a list nested in a dict is live', async () => {
    const run = await ok('manager_lock_list');
    assert.deepEqual(run.lines, [JSON.stringify(Array(10).fill(1)), 'length through the dict: 11']);
  });
});
