// Pool with a cluster backend (mp.cluster.bullmq) against a real Redis
// (Debian's redis-server on a loopback port, persistence off) and two
// worker programs (multiprocessing-worker) on this machine: the same
// inputs give the same outputs and errors as the local Pool; workers and
// Redis that die are survived; terminate() leaves no job behind.
import * as assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

import * as mp from '../lib/index';
import { startRedisServer, type RedisServer } from '../bench/redis_server';
import * as c from './fixtures/cluster_targets';
import * as t from './fixtures/pool_targets';
import { startWorkerProgram, ROOT, WORKER_MAIN, type WorkerProgram } from './support/cluster';
import { tempDir, withTimeout } from './support/helpers';

const run = promisify(execFile);
const WAIT_MS = 30_000;

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

async function collect<T>(iterator: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of iterator) out.push(value);
  return out;
}

/** The error a promise rejects with (fails when it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await withTimeout(promise, 'the task', WAIT_MS);
  } catch (error) {
    return error as Error;
  }
  assert.fail('expected a rejection');
}

/** A process's parent pid, from /proc. */
function parentOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** Jobs of `queue` still in Redis, by state. */
async function jobCounts(url: string, queue: string): Promise<Record<string, number>> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Queue } = require('bullmq') as typeof import('bullmq');
  const port = Number(new URL(url).port);
  const q = new Queue(queue, { connection: { host: '127.0.0.1', port } });
  try {
    return await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'wait');
  } finally {
    await q.close();
  }
}

describe('Pool with a cluster backend (BullMQ on Redis)', function () {
  this.timeout(120_000);
  let redis: RedisServer;
  before(async () => {
    redis = await startRedisServer();
  });
  after(async () => {
    await redis?.stop();
  });

  describe('the same results and errors as the local Pool', () => {
    const QUEUE = 'parity';
    let workers: WorkerProgram[] = [];
    let local: mp.Pool;
    let pool: mp.Pool;
    before(async () => {
      workers = await Promise.all([startWorkerProgram(redis.url, QUEUE, ['--processes', '2']), startWorkerProgram(redis.url, QUEUE, ['--processes', '2'])]);
      local = new mp.Pool(2);
      pool = new mp.Pool({ backend: mp.cluster.bullmq({ connection: redis.url, queue: QUEUE, root: ROOT }) });
    });
    after(async () => {
      await pool?.terminate();
      await local?.terminate();
      const codes = await Promise.all(workers.map((worker) => worker.stop()));
      assert.deepEqual(codes, workers.map(() => 0), 'the worker programs stop cleanly on SIGTERM');
    });

    it('apply, map (default chunks, chunksize 7, empty), starmap and async tasks', async () => {
      for (const p of [local, pool]) {
        assert.equal(await p.apply(t.sqr, [12]), 144);
        assert.deepEqual(await p.map(t.sqr, range(10)), range(10).map(t.sqr));
        assert.deepEqual(await p.map(t.sqr, range(100), 7), range(100).map(t.sqr));
        assert.deepEqual(await p.map(t.sqr, []), []);
        assert.deepEqual(await p.starmap(t.mul, [[1, 2], [3, 4], [5, 6]]), [2, 12, 30]);
        assert.deepEqual(await p.map(t.sqrLater, range(20)), range(20).map(t.sqr));
        assert.deepEqual(await p.map(t.identity, [{ a: new Map([[1, 'x']]) }, new Date(0), 10n, Buffer.from('hi')]), [
          { a: new Map([[1, 'x']]) },
          new Date(0),
          10n,
          Buffer.from('hi'),
        ]);
      }
    });

    it('imap and imapUnordered: ordered, lazy, and the same results', async () => {
      for (const p of [local, pool]) {
        assert.deepEqual(await collect(p.imap(t.sqr, range(50), 3)), range(50).map(t.sqr));
        assert.deepEqual((await collect(p.imapUnordered(t.sqr, range(50), 4))).sort((a, b) => a - b), range(50).map(t.sqr));
      }
    });

    it('imap pulls its input with backpressure and stops pulling when the loop breaks', async () => {
      let pulled = 0;
      function* endless(): Generator<number> {
        for (let i = 0; ; i++) {
          pulled++;
          yield i;
        }
      }
      const seen: number[] = [];
      for await (const value of pool.imap(t.sqr, endless(), 2)) {
        seen.push(value);
        if (seen.length === 10) break;
      }
      assert.deepEqual(seen, range(10).map(t.sqr));
      const window = 2 * pool.processes + 1;
      assert.ok(pulled <= (window + 6) * 2, `pulled ${pulled} items for 10 results (window ${window} chunks of 2)`);
    });

    it('an input that throws: the chunks before it, then its error (as the local Pool)', async () => {
      function* failing(): Generator<number> {
        yield 1;
        yield 2;
        throw new RangeError('input broke');
      }
      for (const p of [local, pool]) {
        const seen: number[] = [];
        const error = await rejectionOf(
          (async () => {
            for await (const value of p.imap(t.sqr, failing(), 1)) seen.push(value);
          })(),
        );
        assert.equal(error.message, 'input broke');
        assert.deepEqual(seen, [1, 4]);
      }
    });

    it('a task error: the same name and message, cause a RemoteError with the worker host, pid and stack', async () => {
      const expected = await rejectionOf(local.apply(t.raise, ['no good']));
      const error = await rejectionOf(pool.apply(t.raise, ['no good']));
      assert.equal(error.name, expected.name);
      assert.equal(error.message, 'no good');
      assert.equal(error.constructor, expected.constructor);
      const remote = error.cause as mp.RemoteError;
      assert.ok(remote instanceof mp.RemoteError);
      assert.equal(remote.host, os.hostname());
      // The process that ran it: a child of the worker program's forkserver.
      assert.ok(workers.some((worker) => worker.pid === parentOf(parentOf(remote.pid as number))), `pid ${String(remote.pid)} is a worker program's process`);
      assert.match(remote.stack ?? '', /at raise \(.*pool_targets\.js/);
      const rangeError = await rejectionOf(pool.apply(t.raiseLater, ['later']));
      assert.ok(rangeError instanceof RangeError);
      const mapError = await rejectionOf(pool.map(t.raiseIfFive, range(10), 2));
      const localMapError = await rejectionOf(local.map(t.raiseIfFive, range(10), 2));
      assert.equal(mapError.message, localMapError.message);
    });

    it('applyAsync and mapAsync: AsyncResult and callbacks', async () => {
      const results: unknown[] = [];
      const errors: Error[] = [];
      const ok = pool.applyAsync(t.sqr, [7], { callback: (value) => results.push(value) });
      const bad = pool.applyAsync(t.raise, ['x'], { errorCallback: (error) => errors.push(error) });
      const slow = pool.applyAsync(t.sleepThen, [1500, 'late']);
      assert.equal(ok.ready(), false);
      assert.equal(await ok.get(WAIT_MS), 49);
      assert.equal(ok.successful(), true);
      await bad.wait(WAIT_MS);
      assert.equal(bad.successful(), false);
      await assert.rejects(slow.get(50), mp.TimeoutError);
      assert.equal(await slow.get(WAIT_MS), 'late');
      const mapped = pool.mapAsync(t.sqr, range(5), 2, { callback: (value) => results.push(value) });
      assert.deepEqual(await mapped.get(WAIT_MS), [0, 1, 4, 9, 16]);
      assert.deepEqual(results, [49, [0, 1, 4, 9, 16]]);
      assert.equal(errors.length, 1);
      assert.equal(errors[0].message, 'x');
    });

    it('a timeout counts from the task start on the worker and rejects with TimeoutError, as locally', async () => {
      const expected = await rejectionOf(local.apply(t.spin, [5000], { timeout: 300 }));
      const error = await rejectionOf(pool.apply(t.spin, [5000], { timeout: 300 }));
      assert.ok(error instanceof mp.TimeoutError);
      assert.equal(error.message, expected.message);
      assert.equal(await pool.apply(t.sqr, [3]), 9, 'the pool goes on');
    });

    it('an AbortSignal cancels a waiting task and a running one', async () => {
      const before = new AbortController();
      before.abort(new Error('not wanted'));
      assert.equal((await rejectionOf(pool.apply(t.sqr, [2], { signal: before.signal }))).message, 'not wanted');
      const controller = new AbortController();
      const dir = tempDir();
      try {
        const file = path.join(dir, 'runs');
        const running = pool.apply(c.countThenReturn, [file, 20_000, 'never'], { signal: controller.signal });
        const started = Date.now();
        while (!fs.existsSync(file)) {
          assert.ok(Date.now() - started < WAIT_MS, 'the task started');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        controller.abort(new Error('stop it'));
        assert.equal((await rejectionOf(running)).message, 'stop it');
        assert.equal(await pool.apply(t.sqr, [4]), 16, 'the pool goes on');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('a 100k-item map', async () => {
      const items = range(100_000);
      const results = await withTimeout(pool.map(t.sqr, items), 'the 100k map', 60_000);
      assert.equal(results.length, 100_000);
      for (let i = 0; i < results.length; i += 997) assert.equal(results[i], i * i);
      assert.equal(results[99_999], 99_999 * 99_999);
    });

    it('an open pool does not keep the program alive (ES module, top-level await, no close())', async () => {
      const index = path.join(__dirname, '..', 'lib', 'index.mjs');
      const targets = path.join(__dirname, 'fixtures', 'pool_targets.js');
      const script = [
        `import * as mp from ${JSON.stringify(index)};`,
        `import { createRequire } from 'node:module';`,
        `const { sqr } = createRequire(import.meta.url)(${JSON.stringify(targets)});`,
        `const pool = new mp.Pool({ backend: mp.cluster.bullmq({ connection: ${JSON.stringify(redis.url)}, queue: ${JSON.stringify(QUEUE)}, root: ${JSON.stringify(ROOT)} }) });`,
        'console.log(JSON.stringify(await pool.map(sqr, [1, 2, 3])));',
        'pool.apply(sqr, [9]).then((value) => console.log(value));',
      ].join('\n');
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, timeout: WAIT_MS });
      assert.deepEqual(stdout.trim().split('\n'), ['[1,4,9]', '81']);
    });

    it('a task from a main module that makes its pool without the main guard fails with an error saying so (no hang)', async () => {
      const dir = tempDir();
      try {
        const main = path.join(dir, 'unguarded.mjs');
        fs.writeFileSync(
          main,
          [
            `import * as mp from ${JSON.stringify(path.join(__dirname, '..', 'lib', 'index.mjs'))};`,
            'export function plusOne(x) { return x + 1; }',
            `const pool = new mp.Pool({ backend: mp.cluster.bullmq({ connection: ${JSON.stringify(redis.url)}, queue: ${JSON.stringify(QUEUE)}, root: ${JSON.stringify(ROOT)} }) });`,
            "try { console.log(await pool.apply(plusOne, [1])); } catch (e) { console.log(`${e.name}: ${e.message.split('\\n')[0]}`); }",
            'await pool.terminate();',
          ].join('\n'),
        );
        const { stdout } = await run(process.execPath, [main], { cwd: dir, timeout: WAIT_MS });
        assert.match(stdout, /^ProcessError: A cluster worker is loading the module of a task, and that module makes a Pool/);
        assert.equal(await pool.apply(t.sqr, [2]), 4, 'the workers go on');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('a function that is not exported: SerializationError at submission, as with forkserver', async () => {
      const inline = (x: number): number => x + 1;
      const error = await rejectionOf(pool.apply(inline, [1]));
      assert.ok(error instanceof mp.SerializationError);
      assert.match(error.message, /inline/);
    });

    it('a module the workers do not have fails that task with an error naming it', async () => {
      const dir = tempDir();
      try {
        const file = path.join(dir, 'only_here.js');
        fs.writeFileSync(file, 'exports.hello = function hello(name) { return `hello ${name}`; };\n');
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { hello } = require(file) as { hello: (name: string) => string };
        const elsewhere = new mp.Pool({ backend: mp.cluster.bullmq({ connection: redis.url, queue: QUEUE, root: dir }) });
        try {
          const error = await rejectionOf(elsewhere.apply(hello, ['x']));
          assert.match(error.message, /only_here\.js/);
          assert.match(error.message, /not on worker/);
          assert.equal((error as NodeJS.ErrnoException).code, 'ERR_MODULE_NOT_FOUND');
          assert.equal(await elsewhere.apply(t.sqr, [5]).catch((e: Error) => e.message), 25, 'other tasks run');
        } finally {
          await elsewhere.terminate();
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('lifecycle', () => {
    const QUEUE = 'lifecycle';
    let workers: WorkerProgram[] = [];
    before(async () => {
      workers = await Promise.all([startWorkerProgram(redis.url, QUEUE, ['--processes', '1']), startWorkerProgram(redis.url, QUEUE, ['--processes', '1'])]);
    });
    after(async () => {
      await Promise.all(workers.map((worker) => worker.stop()));
    });

    it('close() then join() waits for the tasks; new tasks are refused', async () => {
      const pool = new mp.Pool({ backend: mp.cluster.bullmq({ connection: redis.url, queue: QUEUE, root: ROOT }) });
      const pending = pool.map(t.sqr, range(10), 1);
      const late = pool.apply(t.sleepThen, [500, 'done']);
      pool.close();
      assert.throws(() => pool.apply(t.sqr, [1]), mp.ProcessError);
      await withTimeout(pool.join(), 'join()', WAIT_MS);
      assert.deepEqual(await pending, range(10).map(t.sqr));
      assert.equal(await late, 'done');
    });

    it('terminate() rejects what is pending and removes the pool\'s waiting jobs from Redis', async () => {
      const pool = new mp.Pool({ backend: mp.cluster.bullmq({ connection: redis.url, queue: QUEUE, root: ROOT }) });
      const tasks = range(12).map((i) => pool.apply(t.sleepThen, [3000, i]));
      for (const task of tasks) task.catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 500)); // the jobs are in Redis (two of them running)
      assert.ok((await jobCounts(redis.url, QUEUE)).wait >= 8, 'jobs wait in the queue');
      await withTimeout(pool.terminate(), 'terminate()', WAIT_MS);
      for (const task of tasks) assert.ok((await rejectionOf(task)) instanceof mp.ProcessError);
      const counts = await jobCounts(redis.url, QUEUE);
      assert.equal(counts.wait + counts.waiting + counts.delayed + counts.prioritized, 0, JSON.stringify(counts));
    });

    it('multiprocessing-worker: SIGTERM finishes the task in hand; a second SIGTERM stops at once', async () => {
      const queue = 'stopping';
      const dir = tempDir();
      const pool = new mp.Pool({ backend: mp.cluster.bullmq({ connection: redis.url, queue, root: ROOT }) });
      try {
        const first = await startWorkerProgram(redis.url, queue, ['--processes', '1']);
        const file = path.join(dir, 'runs');
        const graceful = pool.apply(c.countThenReturn, [file, 1500, 'finished']);
        while (!fs.existsSync(file)) await new Promise((resolve) => setTimeout(resolve, 20));
        first.child.kill('SIGTERM');
        assert.equal(await withTimeout(graceful, 'the task in hand', WAIT_MS), 'finished');
        assert.equal(await withTimeout(first.stop(), 'the exit after SIGTERM', WAIT_MS), 0);

        const second = await startWorkerProgram(redis.url, queue, ['--processes', '1']);
        const slowFile = path.join(dir, 'slow');
        const slow = pool.apply(c.countThenReturn, [slowFile, 60_000, 'never']);
        slow.catch(() => {});
        while (!fs.existsSync(slowFile)) await new Promise((resolve) => setTimeout(resolve, 20));
        second.child.kill('SIGTERM');
        await new Promise((resolve) => setTimeout(resolve, 200));
        second.child.kill('SIGTERM');
        const started = Date.now();
        assert.equal(await withTimeout(second.stop(60_000), 'the exit after a second SIGTERM', WAIT_MS), 0);
        assert.ok(Date.now() - started < 10_000, 'it did not wait for the 60 s task');
      } finally {
        await pool.terminate();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('multiprocessing-worker --start-method spawn runs the tasks too (fork is refused)', async () => {
      for (const method of ['spawn']) {
        const queue = `method-${method}`;
        const program = await startWorkerProgram(redis.url, queue, ['--processes', '1', '--start-method', method]);
        const pool = new mp.Pool({ backend: mp.cluster.bullmq({ connection: redis.url, queue, root: ROOT }) });
        try {
          assert.deepEqual(await withTimeout(pool.map(t.sqr, range(10), 3), `a map on ${method} workers`, WAIT_MS), range(10).map(t.sqr));
          assert.equal((await rejectionOf(pool.apply(t.raise, ['x']))).message, 'x');
        } finally {
          await pool.terminate();
          assert.equal(await program.stop(), 0);
        }
      }
    });

    it('await using terminates the pool at the end of the scope', async () => {
      let kept: mp.Pool;
      {
        await using pool = new mp.Pool({ backend: mp.cluster.bullmq({ connection: redis.url, queue: QUEUE, root: ROOT }) });
        kept = pool;
        assert.equal(await pool.apply(t.sqr, [6]), 36);
      }
      assert.match(String(kept), /state=TERMINATE/);
      assert.throws(() => kept.apply(t.sqr, [1]), mp.ProcessError);
    });
  });

  describe('faults', () => {
    const QUEUE = 'faults';
    const FAST = ['--processes', '1', '--lock-duration', '2000', '--stalled-interval', '1000'];
    let workers: WorkerProgram[] = [];
    let pool: mp.Pool;
    let dir: string;
    before(async () => {
      workers = await Promise.all([startWorkerProgram(redis.url, QUEUE, FAST), startWorkerProgram(redis.url, QUEUE, FAST)]);
      pool = new mp.Pool({ backend: mp.cluster.bullmq({ connection: redis.url, queue: QUEUE, root: ROOT }) });
      dir = tempDir();
    });
    after(async () => {
      await pool?.terminate();
      await Promise.all(workers.map((worker) => worker.stop()));
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('a worker process that dies mid-task: the task runs once more and succeeds', async () => {
      const file = path.join(dir, 'died-once');
      assert.equal(await withTimeout(pool.apply(t.dieOnce, [file, 42]), 'the retried task', WAIT_MS), 42);
      assert.ok(fs.existsSync(file));
    });

    it('a task that kills its process every time: WorkerLostError after its second try, and the pool goes on', async () => {
      const error = await rejectionOf(pool.apply(c.alwaysDie));
      assert.ok(error instanceof mp.WorkerLostError, String(error));
      assert.equal(await pool.apply(t.sqr, [9]), 81);
    });

    it('a task that holds its thread longer than the lock duration runs once (its lock is kept)', async () => {
      const file = path.join(dir, 'spin');
      assert.equal(await withTimeout(pool.apply(c.countThenSpin, [file, 5000]), 'the long task', WAIT_MS), 5000);
      assert.equal(fs.readFileSync(file, 'utf8'), 'run\n', 'one run, not taken for stalled (lock 2 s, stall check 1 s)');
    });

    it('a worker machine that dies mid-task: the task is run by another worker', async () => {
      const file = path.join(dir, 'machine');
      const result = pool.apply(c.recordThenSleep, [file, 1500]);
      const started = Date.now();
      while (!fs.existsSync(file)) {
        assert.ok(Date.now() - started < WAIT_MS, 'the task started');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const firstPid = Number(fs.readFileSync(file, 'utf8').trim());
      const victim = workers.find((worker) => worker.pid === firstPid);
      assert.ok(victim !== undefined, `the task runs in a worker program (${firstPid})`);
      await victim.kill();
      const secondPid = await withTimeout(result, 'the task run elsewhere', WAIT_MS);
      assert.notEqual(secondPid, firstPid);
      assert.deepEqual(fs.readFileSync(file, 'utf8').trim().split('\n').map(Number), [firstPid, secondPid]);
      workers = [...workers.filter((worker) => worker !== victim), await startWorkerProgram(redis.url, QUEUE, FAST)];
    });

    it('Redis restarting (everything in it lost): the pool waits, resumes, and every accepted task completes', async () => {
      const file = path.join(dir, 'restart-runs');
      const before = range(6).map((i) => pool.apply(c.countThenReturn, [file, 400, i]));
      await new Promise((resolve) => setTimeout(resolve, 200));
      await redis.restart();
      const after = range(4).map((i) => pool.apply(t.sqr, [i]));
      assert.deepEqual(await withTimeout(Promise.all(before), 'the tasks accepted before the restart', 60_000), range(6));
      assert.deepEqual(await withTimeout(Promise.all(after), 'the tasks submitted during the restart', 60_000), [0, 1, 4, 9]);
      assert.ok(fs.readFileSync(file, 'utf8').trim().split('\n').length >= 6, 'every task ran (some twice: at-least-once)');
      assert.equal(await pool.apply(t.sqr, [11]), 121);
    });
  });

  describe('options and loading', () => {
    it('bad options are errors naming the option', () => {
      assert.throws(() => mp.cluster.bullmq({ connection: 'http://x', queue: 'q' }), /"connection"/);
      assert.throws(() => mp.cluster.bullmq({ connection: 'redis://127.0.0.1:1', queue: 'a:b' }), /"queue"/);
      assert.throws(() => mp.cluster.bullmq({ connection: 'redis://127.0.0.1:1', queue: '' }), /"queue"/);
      assert.throws(() => mp.cluster.bullmq({ connection: 'redis://127.0.0.1:1', queue: 'q', processes: 0 }), /"processes"/);
      const backend = mp.cluster.bullmq({ connection: 'redis://127.0.0.1:1', queue: 'q' });
      assert.throws(() => new mp.Pool({ backend, initializer: t.initialize }), /"initializer"/);
      assert.throws(() => new mp.Pool({ backend, maxtasksperchild: 3 }), /"maxtasksperchild"/);
      assert.throws(() => new mp.Pool({ backend: {} as mp.cluster.ClusterBackend }), /"backend"/);
    });

    it('without a backend, bullmq and ioredis are never loaded (CommonJS and ES module)', async () => {
      const index = path.join(__dirname, '..', 'lib', 'index.js');
      const cjs = `const mp = require(${JSON.stringify(index)}); const p = new mp.Pool(1); p.apply(Math.max, []).catch(() => {}).finally(async () => { await p.terminate(); console.log(Object.keys(require.cache).filter((f) => /node_modules[\\\\/](bullmq|ioredis)[\\\\/]/.test(f)).length); });`;
      const { stdout } = await run(process.execPath, ['-e', cjs], { cwd: ROOT, timeout: WAIT_MS });
      assert.equal(stdout.trim(), '0');
      const esm = `import * as mp from ${JSON.stringify(index.replace(/\.js$/, '.mjs'))}; import { createRequire } from 'node:module'; void mp.cluster; const r = createRequire(import.meta.url); console.log(Object.keys(r.cache).filter((f) => /node_modules[\\\\/](bullmq|ioredis)[\\\\/]/.test(f)).length);`;
      const out = await run(process.execPath, ['--input-type=module', '-e', esm], { cwd: ROOT, timeout: WAIT_MS });
      assert.equal(out.stdout.trim(), '0');
    });

    it('multiprocessing-worker: Redis out of reach is said on stderr, and it keeps trying', async () => {
      const unused = await new Promise<number>((resolve) => {
        const server = net.createServer().listen(0, '127.0.0.1', () => {
          const { port } = server.address() as net.AddressInfo;
          server.close(() => resolve(port));
        });
      });
      const child = spawn(process.execPath, [WORKER_MAIN, '--redis', `redis://127.0.0.1:${unused}`, '--queue', 'q'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      try {
        await withTimeout(
          new Promise<void>((resolve) => child.stderr.on('data', () => stderr.includes('cannot reach Redis') && resolve())),
          'the warning',
          WAIT_MS,
        );
        assert.match(stderr, new RegExp(`\\[WARNING/MainProcess\\] cluster worker: cannot reach Redis at 127\\.0\\.0\\.1:${unused} \\(.*ECONNREFUSED.*\\); retrying`));
        assert.equal(child.exitCode, null, 'still trying');
      } finally {
        child.kill('SIGKILL');
      }
    });

    it('multiprocessing-worker: --help, and bad arguments exit 2 naming the option', async () => {
      const help = await run(process.execPath, [WORKER_MAIN, '--help'], { timeout: WAIT_MS });
      assert.match(help.stdout, /--redis URL/);
      for (const [args, named] of [
        [['--queue', 'q'], /--redis/],
        [['--redis', 'redis://127.0.0.1:1'], /--queue/],
        [['--redis', 'redis://127.0.0.1:1', '--queue', 'q', '--processes', 'many'], /--processes/],
        [['--redis', 'ftp://x', '--queue', 'q'], /connection|redis/],
        [['--bogus'], /--bogus/],
        [['--redis', 'redis://127.0.0.1:1', '--queue', 'q', '--start-method', 'thread'], /--start-method/],
        [['--redis', 'redis://127.0.0.1:1', '--queue', 'q', '--start-method', 'fork'], /--start-method must be forkserver or spawn/],
      ] as const) {
        const error = (await run(process.execPath, [WORKER_MAIN, ...args], { timeout: WAIT_MS }).then(
          () => assert.fail(`${args.join(' ')} should fail`),
          (e: unknown) => e,
        )) as { code: number; stderr: string };
        assert.equal(error.code, 2, args.join(' '));
        assert.match(error.stderr, named);
      }
    });
  });
});
