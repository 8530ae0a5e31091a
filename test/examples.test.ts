// Runs every example (node dist/examples/<name>.js) and checks its exit code
// and the lines that carry its point. quickstart runs alone first (it
// promises to finish in under a second); the others then run concurrently,
// started in before(), so the suite takes about as long as the slowest:
// daemon_process, whose main process sleeps 11 s as in the Python example.
// Lines from different processes are matched anywhere in the output; an
// order is asserted only where it is causal (within one process, a parent's
// line after join(), or a line written before the event that lets another
// process write its own). A run ends when every process holding its stdout
// and stderr has exited (the package's helpers, the forkserver and the
// resource tracker, hold them too), so an example that leaves a process
// behind fails here by its timeout.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const EXAMPLES_DIR = path.join(__dirname, '..', 'examples');
/** The TypeScript sources, in a checkout (dist/test/../../examples); absent where the compiled files were copied alone. */
const SOURCE_DIR = path.join(__dirname, '..', '..', 'examples');
const IN_CHECKOUT = fs.existsSync(path.join(SOURCE_DIR, '..', 'tsconfig.json')) && fs.existsSync(SOURCE_DIR);
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

/** Every example in examples/, in the order they are started (the longest first). */
const NAMES = [
  'quickstart',
  'daemon_process',
  'process_pid_and_name',
  'queue_drain_before_join',
  'forkserver_parent_pid',
  'spawn_context',
  'parent_runs_while_child_works',
  'start_methods_compared',
  'custom_reducer',
  'main_guard',
  'atomics',
  'barrier_rendezvous',
  'condition_wait_for',
  'current_process_pid',
  'custom_manager',
  'demo',
  'event_start_signal',
  'fork_copies_globals',
  'join_waits_for_child',
  'joinable_queue_workers',
  'listener_client',
  'lock_prevents_lost_updates',
  'logging_to_stderr',
  'manager_dict_namespace',
  'manager_lock_list',
  'manager_shared_list',
  'pipe_duplex',
  'pool_apply_async',
  'pool_errors',
  'cluster_pool',
  'pool_imap',
  'pool_map',
  'pool_maxtasksperchild',
  'process_attributes',
  'process_sequential_runs',
  'process_start_join',
  'process_subclass',
  'process_subclass_with_state',
  'process_target_args',
  'process_terminate',
  'queue_and_pipe',
  'queue_get_before_join',
  'rlock_reentrant',
  'semaphore_limits_concurrency',
  'set_start_method',
  'shareable_list',
  'shared_memory_by_name',
  'shared_state_value_array',
  'sync_primitives_tour',
] as const;
type ExampleName = (typeof NAMES)[number];

const runs = new Map<ExampleName, Promise<ExampleRun>>();
/** The examples whose output some it() has checked. */
const checked = new Set<ExampleName>();

/** The run of an example, asserting it exited with code 0. */
async function ok(name: ExampleName): Promise<ExampleRun> {
  checked.add(name);
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

/** The lines matching `pattern`, each as its match. */
function matches(run: ExampleRun, pattern: RegExp): RegExpExecArray[] {
  return run.lines.flatMap((l) => {
    const m = pattern.exec(l);
    return m === null ? [] : [m];
  });
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

  it('every example in examples/ is run and checked by this test', function () {
    // A copy of the compiled files alone (symlinked_install.test.ts) has no sources to compare with.
    if (!IN_CHECKOUT) this.skip();
    const sources = fs
      .readdirSync(SOURCE_DIR)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.slice(0, -3))
      .sort();
    assert.deepEqual(sources, [...NAMES].sort(), 'add the new example to NAMES and give it an it() of its own');
    assert.equal(new Set(NAMES).size, NAMES.length);
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
  it('demo: a Pool map, a message through a Queue and a counter under its lock', async () => {
    const run = await ok('demo');
    assert.equal(run.lines.length, 3);
    assertOrdered(
      hasLines(
        run,
        'Pool.map(square, [1..5]): [ 1, 4, 9, 16, 25 ]',
        /^Queue: hello from Process-\d+ \(pid \d+\)$/,
        'Lock: 4 processes x 1000 increments = 4000',
      ),
    );
  });

  it('spawn_context: a child started by the spawn context sleeps 1 s between its two lines', async () => {
    const run = await ok('spawn_context');
    assert.deepEqual(run.lines, ['Spawned process started', 'Done', "the child was started with 'spawn' and exited with code 0"]);
    assert.ok(run.ms >= 1_000, `finished in ${run.ms} ms, before the child's 1 s sleep`);
  });

  it("forkserver_parent_pid: the children's OS parent is the fork server; parentProcess() is the main process", async () => {
    const run = await ok('forkserver_parent_pid');
    const mainPid = run.pid;
    assertOrdered(hasLines(run, `[Main PID: ${mainPid}] Starting main process`, `[Main PID: ${mainPid}] All child processes finished.`));
    const children = matches(run, /^\[Child PID: (\d+)\] Parent PID \(PPID\): (\d+), parentProcess\(\)\.pid: (\d+)$/);
    assert.equal(children.length, 3, run.stdout);
    assert.equal(new Set(children.map((m) => m[1])).size, 3, 'three distinct children');
    const osParents = new Set(children.map((m) => Number(m[2])));
    assert.equal(osParents.size, 1, 'one fork server forked them all');
    assert.ok(!osParents.has(mainPid ?? -1), 'the OS parent is not the main process');
    for (const m of children) assert.equal(Number(m[3]), mainPid);
  });

  it('start_methods_compared: what a child sees under each method, its OS parent, and a closure as target', async () => {
    const run = await ok('start_methods_compared');
    hasLines(
      run,
      'start methods: forkserver, fork, spawn (the first is the default)',
      "[forkserver] setting is 'as loaded'; the OS parent is the fork server",
      "[spawn] setting is 'as loaded'; the OS parent is the main process",
      '[forkserver] an inline closure as the target: SerializationError',
      '[fork] an inline closure as the target: ran, exitCode=0',
      '[spawn] an inline closure as the target: SerializationError',
    );
    // Once for the exported target, once more for the closure.
    assert.equal(run.lines.filter((l) => l === "[fork] setting is 'set by main()'; the OS parent is the main process").length, 2);
    for (const method of ['forkserver', 'fork', 'spawn']) {
      lineIndex(run, new RegExp(`^\\[${method}\\] start\\(\\) to join\\(\\): \\d+\\.\\d ms, then \\d+\\.\\d ms$`));
    }
  });

  it('main_guard: the top level runs again in the spawn child, whose unguarded start() is refused', async () => {
    const run = await ok('main_guard');
    assert.deepEqual(run.lines, [
      '[MainProcess] loading main_guard (require.main === module: true)',
      '[Process-1] loading main_guard (require.main === module: false)',
      '[Process-1] an unguarded start(): ProcessError: An attempt has been made to start a new process ' +
        'before the current process has finished its bootstrapping phase',
      '[Process-1] hello() runs',
      '[MainProcess] Process-1 exited with code 0',
    ]);
  });

  it('pool_imap: imap yields in input order, imapUnordered as the tasks finish', async () => {
    const run = await ok('pool_imap');
    assert.equal(run.lines.length, 2);
    hasLines(run, 'imap (input order):            1, 4, 9, 16');
    const unordered = matches(run, /^imapUnordered \(as they finish\): (.*)$/);
    assert.equal(unordered.length, 1, run.stdout);
    // Item n sleeps (5 - n) × 80 ms; under load the order may differ, the values may not.
    assert.deepEqual(unordered[0][1].split(', ').map(Number).sort((a, b) => a - b), [1, 4, 9, 16]);
  });

  it('cluster_pool: a Pool on a Redis queue with a worker: map in order, apply, an error with its host and pid', async () => {
    const run = await ok('cluster_pool');
    assertOrdered(hasLines(run, 'map: [4,2,3,0]', 'apply: 3', 'error: TypeError: not text: 42', "  from this host, one of the worker's processes"));
    assert.equal(run.lines.length, 4);
  });

  it("pool_errors: a task's error with its remote cause, a timeout, a dead worker, and a pool that goes on", async () => {
    const run = await ok('pool_errors');
    assertOrdered(
      hasLines(
        run,
        'apply: RangeError: not a number: "forty-two"',
        /^ {2}cause: RemoteError, the worker's stack: at parse \(pool_errors\.js:\d+:\d+\)$/,
        'applyAsync errorCallback: RangeError: not a number: "x"',
        'applyAsync: ready=true successful=false',
        'map: RangeError: not a number: "three"',
        'timeout: TimeoutError',
        /^dead worker: WorkerLostError: worker ForkServerPoolWorker-\d+ exited with code 3 while running a task$/,
        'the pool still works: [1,2,3]',
      ),
    );
    assert.equal(run.lines.length, 8);
  });

  it('joinable_queue_workers: join() returns once every item is done; the consumers stop on null', async () => {
    const run = await ok('joinable_queue_workers');
    assert.deepEqual(run.lines, [
      'tasks.join() returned: all 6 items are done',
      'results: 1²=1 2²=4 3²=9 4²=16 5²=25 6²=36',
      'consumers stopped: exit codes 0, 0',
    ]);
  });

  it('pipe_duplex: poll, objects both ways, raw bytes, and EOFError when the parent closes its end', async () => {
    const run = await ok('pipe_duplex');
    assert.deepEqual(run.lines, [
      'poll(0) before sending: false',
      'reply from Process-1: ping 1, tags a Set of a, b',
      'reply: {"echo":"ping 2","by":"Process-1"}',
      'recvBytes(): desserts',
      '[child] recv(): EOFError, the parent closed its end; exiting',
      'child exitCode=0',
    ]);
  });

  it('lock_prevents_lost_updates: increments without a lock may be lost, none under a Lock', async () => {
    const run = await ok('lock_prevents_lost_updates');
    assert.equal(run.lines.length, 2);
    const [unlocked] = matches(run, /^without a lock: (\d+) of 800000 \((\d+) updates lost\)$/);
    assert.ok(unlocked, run.stdout);
    assert.equal(Number(unlocked[1]) + Number(unlocked[2]), 800_000);
    assert.ok(Number(unlocked[1]) > 0);
    lineIndex(run, 'with a Lock:    800000 of 800000');
  });

  it('rlock_reentrant: an RLock taken again by its owner, a Lock not, and an RLock held elsewhere', async () => {
    const run = await ok('rlock_reentrant');
    assert.deepEqual(run.lines, [
      'RLock held 3 times at once by its holder: no deadlock',
      'Lock taken again by its holder: acquire({ timeout: 200 }) = false',
      '[child] acquire({ timeout: 200 }) while the parent holds it: false',
      '[child] release(): ProcessError: attempt to release recursive lock not owned by thread',
      'released by the parent; acquire() now: true',
    ]);
  });

  it('semaphore_limits_concurrency: six processes, never more than two inside', async () => {
    const run = await ok('semaphore_limits_concurrency');
    const slots = matches(run, /^(Process-\d+) has a slot \(([12]) of 2 in use\)$/);
    assert.equal(slots.length, 6, run.stdout);
    assert.equal(new Set(slots.map((m) => m[1])).size, 6);
    assertOrdered(
      hasLines(
        run,
        /^6 processes, at most [12] inside at once; getValue\(\) back to 2$/,
        'BoundedSemaphore(1).release() without acquire: ProcessError: semaphore or lock released too many times',
      ),
    );
    assert.equal(run.lines.length, 8);
  });

  it('condition_wait_for: each consumer wakes once the stock it waits for is there; one gives up', async () => {
    const run = await ok('condition_wait_for');
    assert.equal(run.lines.length, 8);
    const raised = hasLines(run, '[parent] stock = 1; notifyAll()', '[parent] stock = 2; notifyAll()', '[parent] stock = 3; notifyAll()');
    assertOrdered(raised);
    for (const want of [1, 2, 3]) {
      // The stock reaches `want` only after the parent printed it, under the lock.
      const woke = lineIndex(run, `[wants ${want}] woke up: stock is ${want} or more`);
      assert.ok(raised[want - 1] < woke, run.stdout);
    }
    lineIndex(run, '[wants 10] gave up after 300 ms');
    assert.equal(run.lines[run.lines.length - 1], "[parent] consumers' exit codes: 0, 0, 0, 0");
  });

  it('event_start_signal: the runners go only after set(); wait() times out before it', async () => {
    const run = await ok('event_start_signal');
    assert.equal(run.lines.length, 7);
    const [before, set, after, cleared] = hasLines(
      run,
      '[parent] isSet()=false; wait(100) before set(): false',
      '[parent] set()',
      '[parent] isSet()=true; wait() after set() returns at once: true',
      '[parent] after clear(): isSet()=false',
    );
    assertOrdered([before, set, after, cleared]);
    for (const name of ['Process-1', 'Process-2', 'Process-3']) {
      const started = lineIndex(run, `[${name}] started running`);
      assertOrdered([set, started, after]);
    }
  });

  it('barrier_rendezvous: nobody passes the barrier before all three arrive; the action runs once', async () => {
    const run = await ok('barrier_rendezvous');
    assert.equal(run.lines.length, 8);
    const arrived = [1, 2, 3].map((n) => lineIndex(run, `[Process-${n}] phase 1 done, waiting at the barrier`));
    const action = lineIndex(run, /^all 3 arrived \(the action ran in Process-[123]\)$/);
    const passed = matches(run, /^\[Process-[123]\] phase 2 \(wait\(\) returned ([012])\)$/);
    assert.deepEqual(passed.map((m) => m[1]).sort(), ['0', '1', '2']);
    const firstPassed = run.lines.findIndex((l) => l.includes('phase 2'));
    assert.ok(Math.max(...arrived) < action && action < firstPassed, run.stdout);
    lineIndex(run, 'Barrier(2) with one party after 200 ms: BrokenBarrierError; broken=true');
  });

  it('shared_memory_by_name: a block written by children that attach by name or get the object', async () => {
    const run = await ok('shared_memory_by_name');
    assert.equal(run.lines.length, 4);
    assert.match(run.lines[0], /^created a block of 64 bytes named psm_[0-9a-f]+$/);
    assert.deepEqual(run.lines.slice(1), [
      'after the child attached by name: "parent was here + hello from Process-1"',
      'after the child given the object: "PARENT WAS HERE + HELLO FROM PROCESS-1"',
      'attaching after unlink(): ENOENT',
    ]);
  });

  it('shareable_list: items a child changes in place, in the room they were given', async () => {
    const run = await ok('shareable_list');
    assert.deepEqual(run.lines, [
      'before: [1,2.5,"howdy",true,null,"xxxxxxxxxxxx"] (format \'qd8sxxxxxxx?xxxxxx?x16s\')',
      '[child] a longer string: RangeError',
      'after:  [42,2.5,"hi!",true,null,"from child"]',
      '[child] attached by name: length 6, item 2 is "hi!"',
      "index('hi!') = 2, count(true) = 1",
    ]);
  });

  it('manager_dict_namespace: results written to a dict proxy; a value read out is a copy', async () => {
    const run = await ok('manager_dict_namespace');
    assert.deepEqual(run.lines, [
      'results: worker-1 = 10, worker-2 = 20, worker-3 = 30',
      'after changing the copy: retries = 1',
      'after set(): retries = 5',
    ]);
  });

  it('custom_manager: four processes count words in one registered Tally, none lost', async () => {
    const run = await ok('custom_manager');
    assert.deepEqual(run.lines, [
      '4 processes counted "the cat and the dog and the bird":',
      '  the=12 and=8 bird=4 cat=4 dog=4',
    ]);
  });

  it('listener_client: clients connect with the authkey; a wrong key fails on both sides', async () => {
    const run = await ok('listener_client');
    assert.equal(run.lines.length, 5);
    assert.match(run.lines[0], /^listening on 127\.0\.0\.1:[1-9]\d* \(port 0 asked for a free one\)$/);
    hasLines(
      run,
      '[Process-1] answer: HELLO, Process-1',
      '[Process-2] answer: HI, Process-2',
      '[listener] accept(): AuthenticationError',
      '[intruder] Client() with a wrong key: AuthenticationError',
    );
  });

  it("logging_to_stderr: Python's [LEVEL/ProcessName] records from the main process and a child", async () => {
    const run = await ok('logging_to_stderr');
    assert.equal(run.stdout, '');
    assert.deepEqual(
      run.stderr.split('\n').filter((l) => l.length > 0),
      [
        '[INFO/MainProcess] starting a child',
        '[INFO/squarer] child process calling self.run()',
        '[INFO/squarer] squaring 7: 49',
        '[INFO/squarer] process shutting down',
        '[INFO/squarer] process exiting with exitcode 0',
        '[WARNING/MainProcess] squarer exited with code 0',
      ],
    );
  });

  it('custom_reducer: a class with private state crosses under every start method and back', async () => {
    const run = await ok('custom_reducer');
    const lines: string[] = [];
    for (const method of ['fork', 'spawn', 'forkserver']) {
      lines.push('[child] received a Histogram: a:1 b:2', `[${method}] came back as a Histogram: true; a:1 b:12 c:1`);
    }
    assert.deepEqual(run.lines, [...lines, "the parent's own: a:1 b:2"]);
  });

  it('every example has checks of its own', () => {
    assert.deepEqual([...checked].sort(), [...NAMES].sort());
  });
});
