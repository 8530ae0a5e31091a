// Output, exit reporting, daemons and OS limits: behaviour seen from outside
// a parent process (fixtures under test/fixtures run as separate programs).
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { fixture, isRunning, runFixture, tempDir, waitUntil } from './support/helpers';


const MIB = 1 << 20;

/** Tasks (threads included) whose real uid is uid: what RLIMIT_NPROC counts. */
function tasksOfUser(uid: number): number {
  let count = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
      const realUid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      if (realUid === uid) count += Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 1);
    } catch {
      // it ended meanwhile
    }
  }
  return count;
}

describe('child output and exit, seen from outside', () => {
  let dir: string;
  before(() => {
    dir = tempDir();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const method of ['fork', 'spawn', 'forkserver']) {
    for (const how of ['return', 'exit', 'throw']) {
      it(`${method}: no stdout or stderr is lost when stdout is a pipe (child ends by ${how}), 'exit' listeners included`, async () => {
        const r = await runFixture('output', [how, method]);
        assert.equal(r.code, 0, r.stderr);
        const childPart = r.stdout.slice(0, r.stdout.indexOf('END-OF-CHILD'));
        assert.equal(childPart.length, MIB);
        assert.match(r.stdout, /END-OF-CHILD\nEXIT-LISTENER\nPARENT exit=(0|1)\n$/);
        assert.match(r.stderr, /stderr-y{100}/);
        if (how === 'throw') assert.match(r.stdout, /PARENT exit=1/);
      });
    }
  }

  for (const method of ['fork', 'spawn', 'forkserver']) {
    it(`${method}: no output is lost when stdout is a file`, async () => {
      const out = path.join(dir, `stdout-${method}.txt`);
      const fd = fs.openSync(out, 'w');
      const code = await new Promise<number | null>((resolve) => {
        const c = spawn(process.execPath, [fixture('output'), 'exit', method], { stdio: ['ignore', fd, 'ignore'] });
        c.on('exit', resolve);
      });
      fs.closeSync(fd);
      assert.equal(code, 0);
      const text = fs.readFileSync(out, 'utf8');
      assert.equal(text.indexOf('END-OF-CHILD'), MIB);
      assert.match(text, /END-OF-CHILD\nEXIT-LISTENER\nPARENT exit=0\n$/);
    });
  }

  it("spawn: a child run with --cpu-prof keeps Node's own exit, which writes the profile", async () => {
    const profiles = path.join(dir, 'profiles');
    const { pids, code } = await new Promise<{ pids: string; code: number | null }>((resolve, reject) => {
      const c = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profiles}`, fixture('output'), 'return', 'spawn'], {
        stdio: ['ignore', 'ignore', 'ignore'],
      });
      c.on('error', reject);
      c.on('exit', (exitCode) => resolve({ pids: String(c.pid), code: exitCode }));
    });
    assert.equal(code, 0);
    const writers = new Set(fs.readdirSync(profiles).map((name) => /^CPU\.\d+\.\d+\.(\d+)\./.exec(name)?.[1]));
    writers.delete(pids);
    // Besides the fixture's own process, its spawn child (and the resource tracker) wrote theirs.
    assert.ok(writers.size >= 1, `profiles: ${fs.readdirSync(profiles).join(', ')}`);
  });

  it('an uncaught error prints "Process <name>:" and the stack to stderr, exit 1', async () => {
    const r = await runFixture('exit_behaviour', ['uncaught']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /exit 1/);
    assert.match(r.stderr, /^Process Boomer:\nRangeError: the message\n\s+at /m);
  });

  for (const method of ['fork', 'spawn', 'forkserver']) {
    it(`at normal exit the parent joins its non-daemonic children (${method})`, async () => {
      const out = path.join(dir, `joined-${method}.txt`);
      // Checked when the parent exits, not when its output closes (a child holds the pipes open).
      const parent = spawn(process.execPath, [fixture('exit_behaviour'), 'join-at-exit', out, method], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      parent.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      const outputClosed = new Promise((resolve) => parent.stdout.on('close', resolve));
      const { code, childFinished } = await new Promise<{ code: number | null; childFinished: boolean }>((resolve) =>
        parent.on('exit', (exitCode) => resolve({ code: exitCode, childFinished: fs.existsSync(out) })),
      );
      assert.equal(code, 0);
      assert.equal(childFinished, true, 'the parent exited before its child finished');
      await outputClosed;
      const pid = Number(/child (\d+)/.exec(stdout)?.[1]);
      assert.ok(pid > 0);
      assert.equal(isRunning(pid), false);
    });
  }

  it('daemonic children are terminated when the parent exits', async () => {
    const r = await runFixture('exit_behaviour', ['daemon-terminated']);
    assert.equal(r.code, 0);
    const pid = Number(/child (\d+)/.exec(r.stdout)?.[1]);
    assert.ok(pid > 0);
    await waitUntil(() => !isRunning(pid), 2000, 'the daemonic child to end');
  });

  it('a daemonic child dies within 1 s when its parent is SIGKILLed', async () => {
    const parent = spawn(process.execPath, [fixture('exit_behaviour'), 'daemon-orphaned'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pid = await new Promise<number>((resolve, reject) => {
      let text = '';
      parent.stdout.setEncoding('utf8').on('data', (d: string) => {
        text += d;
        const m = /child (\d+)/.exec(text);
        if (m) resolve(Number(m[1]));
      });
      parent.on('exit', () => reject(new Error('parent exited early')));
    });
    assert.ok(isRunning(pid));
    const exited = new Promise((r) => parent.on('exit', r));
    parent.kill('SIGKILL');
    await exited;
    const t0 = Date.now();
    await waitUntil(() => !isRunning(pid), 1000, 'the orphaned daemon to die');
    assert.ok(Date.now() - t0 <= 1000);
  });

  it('EMFILE at start() is a ProcessError with errno and call, and nothing is half-created', async () => {
    const shellCmd = `ulimit -n 64; exec "${process.execPath}" "${fixture('limits')}" emfile`;
    const out = execFileSync('/bin/sh', ['-c', shellCmd], { encoding: 'utf8', timeout: 30000 });
    const report = JSON.parse(out.trim().split('\n').pop() as string);
    assert.equal(report.name, 'ProcessError');
    assert.equal(report.code, 'EMFILE');
    assert.equal(report.syscall, 'open');
    assert.equal(typeof report.errno, 'number');
    assert.match(report.message, /EMFILE/);
    assert.equal(report.pid, null);
    assert.equal(report.children, 0);
    assert.equal(report.afterwards, 4);
  });

  it('EAGAIN from fork() at RLIMIT_NPROC is a ProcessError with errno and call', async () => {
    // RLIMIT_NPROC does not bind root, so as root the fixture runs as nobody.
    const uid = process.getuid?.() === 0 ? 65534 : (process.getuid?.() as number);
    const limit = tasksOfUser(uid) + 40;
    const command = ['prlimit', `--nproc=${limit}:${limit}`];
    if (uid !== process.getuid?.()) command.push('setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups');
    command.push(process.execPath, fixture('limits'), 'eagain');
    // Its own process group, so every sleeper goes if the test fails.
    const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise((r) => child.on('exit', r));
    try {
      await waitUntil(() => stdout.includes('\n'), 30000, 'the fixture to report');
      assert.equal(await exited, 0, stderr);
    } finally {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // the group has ended
      }
    }
    const report = JSON.parse(stdout.trim().split('\n').pop() as string);
    assert.ok(report.sleepers > 0);
    assert.equal(report.name, 'ProcessError');
    assert.equal(report.code, 'EAGAIN');
    assert.equal(report.syscall, 'fork');
    assert.equal(typeof report.errno, 'number');
    assert.equal(report.pid, null);
    assert.equal(report.children, 0);
    assert.equal(report.afterwards, 4);
  });
});
