// Process under every start method: lifecycle, exit codes, waiting,
// identity, and the rules of docs/API.md section 2. Targets are exported from
// test/fixtures/targets.ts so that spawn and forkserver children find them.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import * as mp from '../lib/index';
import * as targets from './fixtures/targets';
import { readLines, tempDir } from './support/helpers';

const JOIN_MS = 10000;
const methods: mp.StartMethod[] = ['fork', 'spawn', 'forkserver'];
const forkOnly = (method: mp.StartMethod): boolean => method === 'fork';

for (const method of methods) {
describe(`Process (${method})`, () => {
  const ctx = mp.getContext(method);
  let dir: string;
  before(() => {
    dir = tempDir();
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    for (const child of mp.activeChildren()) {
      child.kill();
      await child.join(JOIN_MS);
    }
    assert.deepEqual(mp.activeChildren(), [], 'a test left a child running');
  });

  const file = (name: string): string => path.join(dir, name);
  const started = (options: mp.ProcessOptions): mp.Process => {
    const p = new ctx.Process(options);
    p.start();
    return p;
  };

  describe('exit codes', () => {
    it('is 0 when the target returns', async () => {
      const p = started({ target: targets.returnValue });
      await p.join(JOIN_MS);
      assert.equal(p.exitCode, 0);
    });

    it('is 1 when the target throws', async () => {
      const p = started({ target: targets.throwError, args: ['boom'] });
      await p.join(JOIN_MS);
      assert.equal(p.exitCode, 1);
    });

    it('is n after process.exit(n)', async () => {
      const p = started({ target: targets.exitWith, args: [3] });
      await p.join(JOIN_MS);
      assert.equal(p.exitCode, 3);
    });

    it('is process.exitCode when the target sets it and returns', async () => {
      const p = started({ target: targets.setExitCode, args: [4] });
      await p.join(JOIN_MS);
      assert.equal(p.exitCode, 4);
    });

    it('awaits an async target: timers, fs and promise chains run to the end', async () => {
      const out = file('async.txt');
      const p = started({ target: targets.asyncFileWork, args: [out] });
      await p.join(JOIN_MS);
      assert.equal(p.exitCode, 0);
      assert.equal(fs.readFileSync(out, 'utf8'), 'written:7');
    });

    it('is 1 when an async target rejects', async () => {
      const p = started({ target: targets.rejectLater });
      await p.join(JOIN_MS);
      assert.equal(p.exitCode, 1);
    });

    it('is 1 when a callback the target scheduled throws', async () => {
      const p = started({ target: targets.throwFromTimer });
      await p.join(JOIN_MS);
      assert.equal(p.exitCode, 1);
    });

    it('is -15 after terminate() and -9 after kill()', async () => {
      const a = started({ target: targets.sleep, args: [60000] });
      const b = started({ target: targets.sleep, args: [60000] });
      assert.ok(a.isAlive() && b.isAlive());
      a.terminate();
      b.kill();
      await Promise.all([a.join(JOIN_MS), b.join(JOIN_MS)]);
      assert.equal(a.exitCode, -15);
      assert.equal(b.exitCode, -9);
      assert.equal(a.isAlive(), false);
    });

    it('a run() promise that can never settle ends the child with 13', async () => {
      const p = started({ target: targets.neverSettles });
      await p.join(JOIN_MS);
      assert.equal(p.exitCode, 13);
    });
  });

  describe('start() never returns in the child', () => {
    for (const kind of ['sync', 'async'] as const) {
      it(`code after start() runs only in the parent (${kind} run)`, async () => {
        const out = file(`after-start-${kind}.txt`);
        const target = kind === 'sync' ? targets.appendLine : targets.appendLineLater;
        const appendAfterStart = (): mp.Process => {
          const p = started({ target, args: [`${out}.child`, 'c'] });
          fs.appendFileSync(out, `${process.pid}\n`);
          return p;
        };
        const all: mp.Process[] = [];
        for (let i = 0; i < 5; i++) all.push(appendAfterStart());
        // and from inside a microtask, after an await
        await null;
        for (let i = 0; i < 3; i++) all.push(appendAfterStart());
        await Promise.all(all.map((p) => p.join(JOIN_MS)));
        assert.deepEqual(
          all.map((p) => p.exitCode),
          all.map(() => 0),
        );
        assert.deepEqual(readLines(out), all.map(() => String(process.pid)));
        assert.equal(readLines(`${out}.child`).length, all.length);
      });
    }
  });

  describe('waiting', () => {
    it('await join() does not block the event loop', async () => {
      const p = started({ target: targets.sleep, args: [300] });
      let ticks = 0;
      const interval = setInterval(() => ticks++, 10);
      await p.join(JOIN_MS);
      clearInterval(interval);
      assert.equal(p.exitCode, 0);
      assert.ok(ticks >= 10, `the parent's interval ran only ${ticks} times during join()`);
    });

    it('join(timeout) returns with exitCode null while the child runs', async () => {
      const p = started({ target: targets.sleep, args: [60000] });
      const t0 = Date.now();
      await p.join(100);
      assert.ok(Date.now() - t0 >= 90);
      assert.equal(p.exitCode, null);
      assert.equal(p.isAlive(), true);
      p.terminate();
      await p.join(JOIN_MS);
      assert.equal(p.exitCode, -15);
    });

    it('joinSync() blocks until the child ends, and honours a timeout', () => {
      const p = started({ target: targets.sleep, args: [150] });
      p.joinSync(10);
      assert.equal(p.exitCode, null);
      p.joinSync(JOIN_MS);
      assert.equal(p.exitCode, 0);
    });

    it('several join() calls on one process all resolve', async () => {
      const p = started({ target: targets.sleep, args: [50] });
      await Promise.all([p.join(JOIN_MS), p.join(JOIN_MS), p.join(5)]);
      await p.join(JOIN_MS);
      assert.equal(p.exitCode, 0);
    });

    it('join() rejects with the reason when its signal aborts, and the child goes on', async () => {
      const p = started({ target: targets.sleep, args: [200] });
      const controller = new AbortController();
      const joining = p.join(null, { signal: controller.signal });
      controller.abort(new Error('stop waiting'));
      await assert.rejects(joining, /stop waiting/);
      await p.join(JOIN_MS);
      assert.equal(p.exitCode, 0);
    });

    it('the sentinel is a descriptor that becomes readable when the child ends', async () => {
      const p = started({ target: targets.sleep, args: [50] });
      assert.equal(typeof p.sentinel, 'number');
      assert.ok(fs.fstatSync(p.sentinel));
      await p.join(JOIN_MS);
    });

    it("Node's child_process keeps working side by side", async () => {
      const ours = [1, 2, 3].map((n) => started({ target: targets.exitWith, args: [n] }));
      const theirs = await Promise.all(
        [5, 6].map(
          (n) =>
            new Promise<number | null>((resolve) => {
              const c = spawn(process.execPath, ['-e', `setTimeout(() => process.exit(${n}), 50)`]);
              c.on('exit', (code) => resolve(code));
            }),
        ),
      );
      await Promise.all(ours.map((p) => p.join(JOIN_MS)));
      assert.deepEqual(
        ours.map((p) => p.exitCode),
        [1, 2, 3],
      );
      assert.deepEqual(theirs, [5, 6]);
    });
  });

  describe('identity', () => {
    it('names processes Process-N, counting named ones too', () => {
      const a = new ctx.Process();
      const b = new ctx.Process({ name: 'worker' });
      const c = new ctx.Process();
      const n = Number(a.name.split('-')[1]);
      assert.match(a.name, /^Process-\d+$/);
      assert.equal(b.name, 'worker');
      assert.equal(c.name, `Process-${n + 2}`);
    });

    it("a child's children are named Process-N:M, and it sees itself, its parent and its start method", async () => {
      const out = file('identity.json');
      const p = started({ target: targets.reportIdentity, args: [out] });
      await p.join(JOIN_MS);
      assert.equal(p.exitCode, 0);
      const seen = JSON.parse(fs.readFileSync(out, 'utf8'));
      assert.equal(seen.method, method);
      assert.equal(seen.me, p.name);
      assert.equal(seen.grandchild, `${p.name}:1`);
      assert.equal(seen.grandchildExit, 0);
      assert.equal(seen.myPid, p.pid);
      assert.equal(seen.realPid, p.pid);
      assert.equal(seen.parentPid, process.pid);
      assert.equal(seen.parentName, 'MainProcess');
      assert.equal(seen.parentAlive, true);
      assert.equal(seen.authkey, mp.currentProcess().authkey.toString('hex'));
      assert.equal(seen.daemon, false);
      assert.equal(seen.children, 0);
      if (method === 'forkserver') assert.notEqual(seen.osParentPid, process.pid);
      else assert.equal(seen.osParentPid, process.pid);
    });

    it('describes the main process', () => {
      const main = mp.currentProcess();
      assert.equal(main.name, 'MainProcess');
      assert.equal(main.pid, process.pid);
      assert.equal(main.isAlive(), true);
      assert.equal(main.daemon, false);
      assert.equal(main.authkey.length, 32);
      assert.equal(mp.parentProcess(), null);
      assert.equal(mp.cpuCount(), require('node:os').availableParallelism());
    });

    it('pid, ident and exitCode follow the life of the process', async () => {
      const p = new ctx.Process({ target: targets.returnValue });
      assert.equal(p.pid, null);
      assert.equal(p.ident, null);
      assert.equal(p.exitCode, null);
      assert.equal(p.isAlive(), false);
      assert.throws(() => p.sentinel, mp.ProcessError);
      p.start();
      const pid: unknown = p.pid;
      assert.ok(typeof pid === 'number' && Number.isInteger(pid) && pid > 0);
      assert.equal(p.ident, p.pid);
      await p.join(JOIN_MS);
      assert.equal(p.exitCode, 0);
    });

    it('activeChildren() lists live children and reaps finished ones', async () => {
      const long = started({ target: targets.sleep, args: [60000] });
      const short = started({ target: targets.returnValue });
      short.joinSync(JOIN_MS);
      assert.deepEqual(mp.activeChildren(), [long]);
      long.kill();
      await long.join(JOIN_MS);
      assert.deepEqual(mp.activeChildren(), []);
    });
  });

  describe('what the child gets', () => {
    it('runs run() of an exported subclass with its own fields', async () => {
      const out = file('subclass.txt');
      const w = new targets.LabelWriter();
      w.label = 'A-1';
      w.out = out;
      w.start();
      await w.join(JOIN_MS);
      assert.equal(w.exitCode, 0);
      assert.equal(fs.readFileSync(out, 'utf8'), 'A-1 true true');
    });

    it('arguments arrive whole: class instances, functions, bigint, errors, maps, cycles, buffers', async () => {
      const out = file('args.json');
      const nested: { map: Map<string, targets.Point>; self?: unknown; bytes: Buffer } = {
        map: new Map([['p', new targets.Point(6, 8)]]),
        bytes: Buffer.from('cafe', 'hex'),
      };
      nested.self = nested;
      const p = started({
        target: targets.describeArguments,
        args: [out, new targets.Point(3, 4), targets.double, 2n ** 70n, new targets.CodedError('bad', 'E_BAD'), nested],
      });
      await p.join(JOIN_MS);
      assert.equal(p.exitCode, 0);
      assert.deepEqual(JSON.parse(fs.readFileSync(out, 'utf8')), {
        norm: 5,
        isPoint: true,
        f: 42,
        big: String(2n ** 70n),
        error: [true, true, 'CodedError', 'bad', 'E_BAD'],
        mapPoint: 10,
        cycle: true,
        bytes: 'cafe',
      });
    });

    if (forkOnly(method)) {
      it('runs closures over parent state, as it was at start() (fork only: the child is a copy)', async () => {
        const out = file('closure.txt');
        const state = { count: 1, items: new Map([['a', [1, 2, 3]]]) };
        const p = started({
          target: () => {
            state.count += 10;
            fs.writeFileSync(out, JSON.stringify([state.count, state.items.get('a')]));
          },
        });
        state.count = 100;
        await p.join(JOIN_MS);
        assert.equal(fs.readFileSync(out, 'utf8'), '[11,[1,2,3]]');
        assert.equal(state.count, 100);
      });
    } else {
      it('an inline closure is a SerializationError at start(), naming it and the remedy', () => {
        const p = new ctx.Process({ target: function inlineWorker() {} });
        assert.throws(() => p.start(), (error: Error) => {
          assert.equal(error.name, 'SerializationError');
          assert.match(error.message, /"inlineWorker"/);
          assert.match(error.message, /export it/i);
          assert.match(error.message, /'fork'/);
          return true;
        });
        assert.equal(p.pid, null);
        assert.deepEqual(mp.activeChildren(), []);
      });
    }
  });

  describe('rules', () => {
    it('start() twice throws ProcessError', async () => {
      const p = started({ target: targets.returnValue });
      assert.throws(() => p.start(), { name: 'ProcessError', message: /cannot start a process twice/ });
      await p.join(JOIN_MS);
    });

    it('daemon is settable before start only', async () => {
      const p = new ctx.Process({ target: targets.returnValue });
      p.daemon = true;
      assert.equal(p.daemon, true);
      p.start();
      assert.throws(() => {
        p.daemon = false;
      }, mp.ProcessError);
      await p.join(JOIN_MS);
    });

    it('a daemonic process may not create children', async () => {
      const out = file('daemon-child.txt');
      const p = started({ daemon: true, target: targets.tryToStartChild, args: [out] });
      await p.join(JOIN_MS);
      assert.equal(fs.readFileSync(out, 'utf8'), 'ProcessError: daemonic processes are not allowed to have children');
    });

    it('close() throws while running; afterwards only name and close() work', async () => {
      const p = started({ target: targets.sleep, args: [100] });
      assert.throws(() => p.close(), { name: 'ProcessError', message: /still running/ });
      await p.join(JOIN_MS);
      p.close();
      p.close();
      assert.match(p.name, /^Process-/);
      for (const use of [
        () => p.pid,
        () => p.ident,
        () => p.exitCode,
        () => p.sentinel,
        () => p.daemon,
        () => p.authkey,
        () => p.isAlive(),
        () => p.start(),
        () => p.terminate(),
        () => p.kill(),
        () => p.joinSync(),
      ]) {
        assert.throws(use, { name: 'ProcessError', message: /closed/ });
      }
      await assert.rejects(p.join(), { name: 'ProcessError', message: /closed/ });
    });

    it('join() before start() and on the current process throw ProcessError', async () => {
      await assert.rejects(new ctx.Process().join(), mp.ProcessError);
      await assert.rejects(mp.currentProcess().join(), mp.ProcessError);
    });

    it('wrong arguments throw TypeError naming the parameter', () => {
      const P = ctx.Process as unknown as new (o?: unknown) => mp.Process;
      assert.throws(() => new P({ target: 42 }), { name: 'TypeError', message: /"target"/ });
      assert.throws(() => new P({ args: 'ab' }), { name: 'TypeError', message: /"args"/ });
      assert.throws(() => new P({ name: 7 }), { name: 'TypeError', message: /"name"/ });
      assert.throws(() => new P({ daemon: 'yes' }), { name: 'TypeError', message: /"daemon"/ });
      assert.throws(() => new P({ kwargs: {} }), { name: 'TypeError', message: /"kwargs"/ });
      assert.throws(() => new P(5), { name: 'TypeError', message: /"options"/ });
      const p = new ctx.Process();
      assert.throws(() => p.joinSync('soon' as unknown as number), { name: 'TypeError', message: /"timeout"/ });
      assert.deepEqual(mp.activeChildren(), []);
    });
  });

  if (forkOnly(method)) {
    describe('registerAtFork (fork only: spawn and forkserver do not fork this process)', () => {
      it('runs before hooks in reverse order, after hooks in order, each on its side', async () => {
        const out = file('atfork.txt');
        const log: string[] = [];
        // Hooks cannot be unregistered (as in Python): make them inert afterwards.
        let active = true;
        const when = (fn: () => void) => () => active && fn();
        mp.registerAtFork({
          before: when(() => log.push('before-1')),
          afterInParent: when(() => log.push('parent-1')),
          afterInChild: when(() => fs.appendFileSync(out, 'child-1\n')),
        });
        mp.registerAtFork({
          before: when(() => log.push('before-2')),
          afterInParent: when(() => log.push('parent-2')),
          afterInChild: when(() => fs.appendFileSync(out, 'child-2\n')),
        });
        const p = started({ target: () => fs.appendFileSync(out, 'target\n') });
        await p.join(JOIN_MS);
        active = false;
        assert.deepEqual(log, ['before-2', 'before-1', 'parent-1', 'parent-2']);
        assert.deepEqual(readLines(out), ['child-1', 'child-2', 'target']);
      });

      it('rejects hooks that are not functions', () => {
        assert.throws(() => mp.registerAtFork({ before: 1 as unknown as () => void }), {
          name: 'TypeError',
          message: /hooks.before/,
        });
      });
    });
  }
});
}

describe('ParentProcess in a child', () => {
  it('join(timeout) returns while the parent lives, alongside mp.wait() on the same sentinel', async () => {
    const ctx = mp.getContext('fork');
    const p = new ctx.Process({
      target: async () => {
        const parent = mp.parentProcess() as mp.ParentProcess;
        const startedAt = Date.now();
        const [, ready] = await Promise.all([parent.join(50), mp.wait([parent.sentinel], 50)]);
        process.exitCode = parent.isAlive() && ready.length === 0 && Date.now() - startedAt >= 45 ? 0 : 2;
      },
    });
    p.start();
    await p.join(JOIN_MS);
    assert.equal(p.exitCode, 0);
  });
});

describe('join() with a timeout longer than a timer can count', () => {
  it('waits for the child, not the 1 ms Node gives such a timer', async () => {
    const p = new (mp.getContext('fork').Process)({ target: targets.sleep, args: [100] });
    p.start();
    await p.join(2 ** 40);
    assert.equal(p.exitCode, 0);
  });
});
