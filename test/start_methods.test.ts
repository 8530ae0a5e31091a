// spawn and forkserver: functions by reference from every kind of module,
// the main module imported not-as-main, what cannot cross, the missing main
// guard, Node options carried over, and the forkserver's own life.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

import * as mp from '../lib/index';
import { forkserverPid, forkserverSocketPath, forkserverWarmChildren, stopForkserver } from '../lib/process/forkserver';
import { native } from '../lib/native';
import * as targets from './fixtures/targets';
import { isRunning, readLines, tempDir, waitUntil } from './support/helpers';

const run = promisify(execFile);
const JOIN_MS = 10000;
const modules = path.resolve(__dirname, '..', '..', 'test', 'fixtures', 'modules');
const methods: mp.StartMethod[] = ['fork', 'spawn', 'forkserver'];

describe('start methods', function () {
  this.timeout(60000);
  let dir: string;
  before(() => {
    dir = tempDir();
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('functions by reference from an ES main module', () => {
    for (const method of methods) {
      it(`${method}: named, renamed, default, CommonJS, nested, class instance, subclass, main-module targets`, async () => {
        const out = path.join(dir, `esm-${method}.txt`);
        const { stdout } = await run(process.execPath, [path.join(modules, 'main.mjs'), method, out], { timeout: 50000 });
        const result = JSON.parse(stdout);
        assert.deepEqual(result.codes, {
          main: 0,
          named: 0,
          renamed: 0,
          default: 0,
          cjsWhole: 0,
          cjsNamed: 0,
          nested: 0,
          instance: 0,
          subclass: 0,
          report: 0,
        });
        assert.deepEqual(readLines(out), [
          'main',
          'named',
          'renamed',
          'default',
          'cjs-whole',
          'cjs-named',
          'nested',
          'point true 5',
          'subclass true',
        ]);
        assert.equal(result.children, 0);
        const child = JSON.parse(fs.readFileSync(`${out}.child.json`, 'utf8'));
        assert.equal(child.method, method);
        assert.deepEqual(child.args, [method, out], "the parent's arguments carry over to process.argv");
        assert.equal(typeof child.argv1, 'string');
        if (method !== 'fork') {
          assert.equal(child.guard, false, 'the main guard must be false when a child imports the main module');
          assert.match(child.argv1, /entry\/(spawn|forkserver)_main\.js$/);
        }
        if (method === 'fork') {
          for (const value of Object.values(result.errors)) assert.equal(value, null);
          return;
        }
        const { errors } = result;
        assert.match(errors.closure, /^SerializationError: cannot send target \(the function "target"\).*not exported.*export it.*'fork'/is);
        assert.match(errors.bound, /^SerializationError: .*"bound inMain".*bound function/s);
        assert.match(errors.notExported, /^SerializationError: .*"notExported".*not exported from file:.*main\.mjs/s);
        assert.match(errors.functionInObject, /^SerializationError: cannot send args\[0\]\.cb \(the function "callback"\)/);
        assert.match(errors.socket, /^SerializationError: cannot send args\[1\]\.conn\.socket \(an instance of Socket\)/);
        assert.match(errors.localClass, /^SerializationError: cannot send args\[1\]\[0\] \(an instance of LocalClass\)/);
        assert.match(errors.anonymousSubclass, /^SerializationError: .*cls/s);
      });
    }
  });

  describe('the main module', () => {
    for (const method of ['spawn', 'forkserver'] as const) {
      it(`${method}: a CommonJS main module's export runs, and require.main === module is false in the child`, async () => {
        const out = path.join(dir, `cjs-${method}.txt`);
        const { stdout } = await run(process.execPath, [path.join(modules, 'main.cjs'), method, out], { timeout: 50000 });
        assert.deepEqual(JSON.parse(stdout), { code: 0 });
        assert.deepEqual(readLines(out), ['cjs-main false']);
      });

      it(`${method}: starting a process while the main module is imported is a ProcessError naming the guard`, async () => {
        const { stdout, stderr } = await run(process.execPath, [path.join(modules, 'unguarded.mjs'), method], {
          timeout: 50000,
        });
        assert.deepEqual(JSON.parse(stdout), { code: 1 });
        assert.match(stderr, /ProcessError: An attempt has been made to start a new process before the current process has finished its bootstrapping phase/);
        assert.match(stderr, /import\.meta\.url === pathToFileURL\(process\.argv\[1\]\)\.href/);
        assert.match(stderr, /require\.main === module/);
      });

      it(`${method}: the parent's Node options (a loader given with --import) apply in the child`, async () => {
        const out = path.join(dir, `loader-${method}.txt`);
        const loader = path.join(modules, 'loader.mjs');
        const { stdout } = await run(
          process.execPath,
          ['--import', loader, '--max-old-space-size=200', path.join(modules, 'main.mjs'), method, out],
          { timeout: 50000 },
        );
        assert.equal(JSON.parse(stdout).codes.report, 0);
        const child = JSON.parse(fs.readFileSync(`${out}.child.json`, 'utf8'));
        assert.equal(child.loader, 'loaded');
        assert.deepEqual(child.execArgv.slice(0, 3), ['--import', loader, '--max-old-space-size=200']);
      });
    }
  });

  describe('descriptors cross with the objects that carry them', () => {
    for (const method of methods) {
      it(`${method}: a registered reducer sends an open file to the child`, async () => {
        const out = path.join(dir, `fd-${method}.txt`);
        const fd = fs.openSync(out, 'a');
        try {
          const p = new (mp.getContext(method).Process)({
            target: targets.writeThroughDescriptor,
            args: [new targets.DescriptorBox(fd), `through ${method}`],
          });
          p.start();
          await p.join(JOIN_MS);
          assert.equal(p.exitCode, 0);
        } finally {
          fs.closeSync(fd);
        }
        assert.equal(fs.readFileSync(out, 'utf8'), `through ${method}`);
      });
    }
  });

  describe('Math.random() in children', () => {
    for (const method of methods) {
      it(`${method}: every child draws its own numbers (the generator is reseeded after fork, as Python's random)`, async () => {
        const queue = new mp.Queue<number[]>();
        const children = [0, 1, 2, 3].map(() => new (mp.getContext(method).Process)({ target: targets.putRandomNumbers, args: [queue] }));
        for (const child of children) child.start();
        const drawn: number[][] = [];
        for (let i = 0; i < children.length; i++) drawn.push(await queue.get({ timeout: JOIN_MS }));
        await Promise.all(children.map((child) => child.join(JOIN_MS)));
        const all = drawn.flat();
        assert.equal(new Set(all).size, all.length, `repeated numbers: ${JSON.stringify(drawn)}`);
        assert.ok(!all.includes(Math.random()), 'a child drew what the parent draws next');
        queue.close();
      });
    }
  });

  describe('the forkserver', () => {
    const ForkserverProcess = mp.getContext('forkserver').Process;

    it("is the OS parent of its children, while parentProcess() names the logical parent", async () => {
      const out = path.join(dir, 'parents.json');
      const p = new ForkserverProcess({ target: targets.reportOsParent, args: [out] });
      p.start();
      await p.join(JOIN_MS);
      const seen = JSON.parse(fs.readFileSync(out, 'utf8'));
      assert.equal(seen.logicalParent, process.pid);
      assert.equal(seen.osParent, forkserverPid());
      assert.notEqual(seen.osParent, process.pid);
    });

    it('is started again after it was killed with SIGKILL', async () => {
      const first = new ForkserverProcess({ target: targets.returnValue });
      first.start();
      await first.join(JOIN_MS);
      const old = forkserverPid();
      assert.ok(old !== null);
      process.kill(old, 'SIGKILL');
      await waitUntil(() => !isRunning(old), JOIN_MS, 'the forkserver to die');
      const second = new ForkserverProcess({ target: targets.exitWith, args: [7] });
      second.start();
      await second.join(JOIN_MS);
      assert.equal(second.exitCode, 7);
      const now = forkserverPid();
      assert.ok(now !== null && now !== old);
    });

    it('refuses a connection that presents the wrong authkey: nothing is forked', () => {
      new ForkserverProcess({ target: targets.returnValue }).start();
      const socket = forkserverSocketPath();
      assert.ok(socket !== null);
      const fd = native.unixConnect(socket);
      try {
        const header = Buffer.alloc(4);
        header.writeUInt32LE(1);
        native.sendMessage(fd, Buffer.concat([Buffer.alloc(32, 7), header, Buffer.from([0])]), []);
        assert.equal(native.readExact(fd, 4).length, 0, 'the server answered a forged request');
      } finally {
        native.closeFd(fd);
      }
    });

    it('listens in a private directory and refuses another user (SO_PEERCRED), even with the right authkey', async () => {
      new ForkserverProcess({ target: targets.returnValue }).start();
      const socket = forkserverSocketPath();
      assert.ok(socket !== null);
      const dirStat = fs.statSync(path.dirname(socket));
      assert.equal(dirStat.mode & 0o777, 0o700);
      assert.equal(dirStat.uid, native.getuid());
      // Only root can act as another user here; elsewhere the 0700 directory is the check.
      if (native.getuid() !== 0) return;
      // Open the private directory to the other user for this test only.
      const socketDir = path.dirname(socket);
      fs.chmodSync(socketDir, 0o711);
      fs.chmodSync(socket, 0o777);
      try {
        // As user nobody: connect, present the right authkey, count the bytes of the answer.
        const script = [
          "const [path, key] = process.argv.slice(1);",
          "const s = require('node:net').connect(path, () => {",
          "  const length = Buffer.alloc(4); length.writeUInt32LE(1);",
          "  s.write(Buffer.concat([Buffer.from(key, 'hex'), length, Buffer.from([0])]));",
          "});",
          "let n = 0; s.on('data', (d) => (n += d.length));",
          "s.on('close', () => console.log(n)); s.on('error', () => {});",
        ].join('\n');
        const { stdout } = await run(
          'setpriv',
          ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script, socket,
            mp.currentProcess().authkey.toString('hex')],
          { timeout: 20000 },
        );
        assert.equal(stdout.trim(), '0');
      } finally {
        fs.chmodSync(socketDir, 0o700);
        fs.chmodSync(socket, 0o755);
      }
    });

    it("runs a preloaded module's top-level code once, in the server, not per child", async () => {
      const log = path.join(dir, 'preload.log');
      const out = path.join(dir, 'preload-children.log');
      process.env.MP_PRELOAD_LOG = log;
      try {
        stopForkserver();
        mp.setForkserverPreload([path.join(modules, 'preloaded.mjs')]);
        const { preloadedTarget } = (await import(path.join(modules, 'preloaded.mjs'))) as {
          preloadedTarget: (out: string) => void;
        };
        // The import above ran the module here too: that line is this process's.
        const children = [1, 2, 3].map(() => new ForkserverProcess({ target: preloadedTarget, args: [out] }));
        for (const child of children) child.start();
        await Promise.all(children.map((child) => child.join(JOIN_MS)));
        assert.deepEqual(
          children.map((child) => child.exitCode),
          [0, 0, 0],
        );
        const server = forkserverPid();
        assert.deepEqual(readLines(log), [String(process.pid), String(server)]);
        assert.deepEqual(readLines(out).sort(), children.map((child) => String(child.pid)).sort());
      } finally {
        mp.setForkserverPreload([]);
        delete process.env.MP_PRELOAD_LOG;
        stopForkserver();
      }
    });

    describe('warm children', () => {
      let before: number;
      beforeEach(() => {
        before = forkserverWarmChildren();
        stopForkserver();
      });
      afterEach(() => {
        mp.setForkserverWarmChildren(before);
        stopForkserver();
      });

      /** The server's living children: its idle warm ones once the started ones have ended. */
      function serverChildren(server: number): number[] {
        const text = fs.readFileSync(`/proc/${server}/task/${server}/children`, 'utf8').trim();
        return text === '' ? [] : text.split(' ').map(Number).filter(isRunning);
      }

      /** A new server keeping `count` warm children, once they are all forked: its pid and theirs. */
      async function serverWithIdle(count: number): Promise<{ server: number; idle: number[] }> {
        mp.setForkserverWarmChildren(count);
        const server = await startedServer();
        await waitUntil(() => serverChildren(server).length === count, JOIN_MS, `${count} warm children`);
        return { server, idle: serverChildren(server) };
      }

      async function startedServer(): Promise<number> {
        const first = new ForkserverProcess({ target: targets.returnValue });
        first.start();
        await first.join(JOIN_MS);
        const server = forkserverPid();
        assert.ok(server !== null);
        return server;
      }

      it('setForkserverWarmChildren() takes an integer from 0 to 64, naming "count"', () => {
        for (const bad of [-1, 1.5, 65, Number.NaN, '2' as unknown as number]) {
          assert.throws(() => mp.setForkserverWarmChildren(bad), { name: 'RangeError', message: /"count"/ });
        }
        mp.setForkserverWarmChildren(0);
        assert.equal(forkserverWarmChildren(), 0);
      });

      it('are kept forked ahead, idle; start() hands one its process, and the pool refills', async () => {
        const { server, idle } = await serverWithIdle(3);
        const out = path.join(dir, 'warm-parents.json');
        const p = new ForkserverProcess({ target: targets.reportOsParent, args: [out] });
        p.start();
        assert.ok(idle.includes(p.pid as number), `pid ${p.pid} is not one of the warm children ${idle.join(', ')}`);
        await p.join(JOIN_MS);
        assert.equal(p.exitCode, 0);
        const seen = JSON.parse(fs.readFileSync(out, 'utf8'));
        assert.deepEqual(seen, { osParent: server, logicalParent: process.pid });
        await waitUntil(
          () => serverChildren(server).length === 3 && !serverChildren(server).includes(p.pid as number),
          JOIN_MS,
          'the pool to refill',
        );
      });

      it('with 0, every child is forked at its request and none waits idle', async () => {
        mp.setForkserverWarmChildren(0);
        const server = await startedServer();
        const p = new ForkserverProcess({ target: targets.exitWith, args: [5] });
        p.start();
        await p.join(JOIN_MS);
        assert.equal(p.exitCode, 5);
        assert.deepEqual(serverChildren(server), []);
      });

      it('an idle one that is killed is replaced, and the next start() still works', async () => {
        const { server } = await serverWithIdle(2);
        const [victim] = serverChildren(server);
        process.kill(victim, 'SIGKILL');
        await waitUntil(
          () => !isRunning(victim) && serverChildren(server).length === 2,
          JOIN_MS,
          'the killed warm child to be replaced',
        );
        const p = new ForkserverProcess({ target: targets.exitWith, args: [3] });
        p.start();
        await p.join(JOIN_MS);
        assert.equal(p.exitCode, 3);
      });

      it('idle ones exit with the server', async () => {
        const { server, idle } = await serverWithIdle(2);
        stopForkserver();
        await waitUntil(() => idle.every((pid) => !isRunning(pid)) && !isRunning(server), JOIN_MS, 'the pool to exit');
      });

      it('a daemonic child handed to a warm child dies with the server (PDEATHSIG)', async () => {
        const { server, idle } = await serverWithIdle(2);
        const p = new ForkserverProcess({ target: targets.sleep, args: [60000], daemon: true });
        p.start();
        assert.ok(idle.includes(p.pid as number));
        process.kill(server, 'SIGKILL');
        await waitUntil(() => !isRunning(p.pid as number), JOIN_MS, 'the daemonic child to die with the server');
        await p.join(JOIN_MS);
        assert.equal(p.exitCode, 255);
      });

      it('prefaulting (what the first children report, later warm ones copy while idle) changes no byte', async () => {
        assert.throws(() => native.populate([1, 2] as unknown as Float64Array), { name: 'TypeError', message: /"ranges"/ });
        const seen = mp.RawArray('d', 3);
        const pattern = Buffer.alloc(1 << 20);
        for (let i = 0; i < pattern.length; i++) pattern[i] = (i * 31) & 0xff;
        const expected = Buffer.from(pattern);
        const p = new (mp.getContext('fork').Process)({
          target: () => {
            pattern[4096] ^= 0xff; // this child's own copy of one page, at least
            pattern[4096] ^= 0xff;
            const ranges = native.hotPages();
            let ordered = true;
            for (let i = 0; i + 1 < ranges.length; i++) ordered &&= ranges[i] < ranges[i + 1] && ranges[i] % 4096 === 0;
            seen[0] = ranges.length / 2;
            seen[1] = ordered ? 1 : 0;
            native.populate(ranges);
            seen[2] = pattern.equals(expected) ? 1 : 0;
          },
        });
        p.start();
        await p.join(JOIN_MS);
        assert.equal(p.exitCode, 0);
        assert.ok(seen[0] > 0, 'a fork child reports the pages it wrote');
        assert.equal(seen[1], 1, 'page-aligned, sorted, disjoint ranges');
        assert.equal(seen[2], 1, 'populating changed memory');
        assert.ok(pattern.equals(expected));
      });

      it('a learning child that wrote tens of thousands of scattered pages still exits (its report is capped)', async () => {
        const { idle } = await serverWithIdle(2);
        // The first children handed to warm ones report their pages: 200 MiB, every other page, is ~25,600 ranges.
        const p = new ForkserverProcess({ target: targets.touchEveryOtherPage, args: [200] });
        p.start();
        assert.ok(idle.includes(p.pid as number));
        await p.join(JOIN_MS);
        assert.equal(p.exitCode, 0);
        const next = new ForkserverProcess({ target: targets.exitWith, args: [4] });
        next.start();
        await next.join(JOIN_MS);
        assert.equal(next.exitCode, 4);
      });

      it('a request too big for a warm child (over 64 KiB) goes to a child forked for it', async () => {
        const { server, idle } = await serverWithIdle(2);
        const out = path.join(dir, 'big-request.txt');
        const big = 'z'.repeat(200 * 1024);
        const p = new ForkserverProcess({ target: targets.appendLine, args: [out, big] });
        p.start();
        assert.ok(!idle.includes(p.pid as number), 'a warm child took a request over the limit');
        await p.join(JOIN_MS);
        assert.equal(p.exitCode, 0);
        assert.equal(fs.readFileSync(out, 'utf8'), `${big}\n`);
        assert.deepEqual(serverChildren(server).sort(), idle.sort(), 'the idle ones stay idle');
      });

      it('100 concurrent starts, more than the pool holds, all run with their own exit codes', async () => {
        mp.setForkserverWarmChildren(2);
        const children = Array.from({ length: 100 }, (_, i) => new ForkserverProcess({ target: targets.exitWith, args: [i % 7] }));
        for (const child of children) child.start();
        assert.equal(new Set(children.map((child) => child.pid)).size, 100);
        await Promise.all(children.map((child) => child.join(JOIN_MS * 3)));
        assert.deepEqual(
          children.map((child) => child.exitCode),
          children.map((_, i) => i % 7),
        );
      });
    });

    it('leaves no server, socket or directory behind when stopped', async () => {
      new ForkserverProcess({ target: targets.returnValue }).start();
      const pid = forkserverPid();
      const socket = forkserverSocketPath();
      assert.ok(pid !== null && socket !== null);
      stopForkserver();
      await waitUntil(() => !isRunning(pid), JOIN_MS, 'the forkserver to exit');
      assert.equal(fs.existsSync(path.dirname(socket)), false);
    });
  });
});
