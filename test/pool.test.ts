// Pool (ports of CPython's _TestPool: map, imap, imap_unordered, starmap,
// apply_async with callbacks, errors, maxtasksperchild, initializer,
// terminate, context manager) on every start method, and what it does
// beyond Python: worker death, task timeouts from the task's start, abort
// signals, memory recycling, lazy input.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import * as mp from '../lib/index';
import * as t from './fixtures/pool_targets';
import { runFixture, tempDir, waitUntil } from './support/helpers';

const methods: mp.StartMethod[] = ['fork', 'spawn', 'forkserver'];
const prefixes: Record<mp.StartMethod, string> = { fork: 'ForkPoolWorker', spawn: 'SpawnPoolWorker', forkserver: 'ForkServerPoolWorker' };
const WAIT_MS = 20000;

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

class SayWhenError extends Error {}

/** CPython's exception_throwing_generator: 0, 1, … and SayWhenError at `when` (-1: at once). */
function* throwingAt(total: number, when: number): Generator<number> {
  if (when === -1) throw new SayWhenError('Somebody said when');
  for (let i = 0; i < total; i++) {
    if (i === when) throw new SayWhenError('Somebody said when');
    yield i;
  }
}

async function* throwingAtAsync(total: number, when: number): AsyncGenerator<number> {
  yield* throwingAt(total, when);
}

function* pairsThrowingAt(total: number, when: number): Generator<[number, number]> {
  for (const i of throwingAt(total, when)) yield [i, i];
}

for (const method of methods) {
  describe(`Pool (${method})`, () => {
    const ctx = mp.getContext(method);
    let pool: mp.Pool;
    let dir: string;
    before(() => {
      pool = new ctx.Pool(2);
      dir = tempDir();
    });
    after(async () => {
      await pool.terminate();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('map, with and without a chunksize, keeps input order (test_map)', async () => {
      assert.deepEqual(await pool.map(t.sqr, range(10)), range(10).map(t.sqr));
      assert.deepEqual(await pool.map(t.sqr, range(100), 7), range(100).map(t.sqr));
      assert.deepEqual(await pool.map(t.sqr, []), []);
      assert.deepEqual(await pool.map(t.sqrLater, range(20)), range(20).map(t.sqr), 'async tasks');
    });

    it('starmap and starmapAsync spread each argument list (test_starmap)', async () => {
      const pairs = range(10).map((i) => [i, i + 1]);
      assert.deepEqual(await pool.starmap(t.mul, pairs), pairs.map(([a, b]) => a * b));
      assert.deepEqual(await pool.starmapAsync(t.mul, pairs, 3).get(WAIT_MS), pairs.map(([a, b]) => a * b));
    });

    it('apply and applyAsync: results, callbacks, wait/ready/successful, get(timeout) (test_apply, test_async)', async () => {
      assert.equal(await pool.apply(t.sqr, [5]), 25);
      assert.equal(await pool.apply(t.sqrLater, [6]), 36);
      const seen: number[] = [];
      const result = pool.applyAsync(t.sleepThen, [100, 7], { callback: (v) => seen.push(v as number) });
      assert.throws(() => result.successful(), mp.ProcessError);
      await assert.rejects(result.get(10), mp.TimeoutError);
      assert.equal(result.ready(), false);
      await result.wait(WAIT_MS);
      assert.equal(result.ready(), true);
      assert.equal(result.successful(), true);
      assert.equal(await result.get(), 7);
      assert.deepEqual(seen, [7]);
      const errors: Error[] = [];
      const failed = pool.applyAsync(t.raise, ['bad'], { errorCallback: (e) => errors.push(e) });
      await failed.wait(WAIT_MS);
      assert.equal(failed.successful(), false);
      assert.equal(errors.length, 1);
      assert.equal(errors[0].message, 'bad');
    });

    it('imap keeps order and imapUnordered yields every result (test_imap, test_imap_unordered)', async () => {
      const ordered: number[] = [];
      for await (const value of pool.imap(t.sqr, range(30))) ordered.push(value);
      assert.deepEqual(ordered, range(30).map(t.sqr));
      const chunked: number[] = [];
      for await (const value of pool.imap(t.sqr, range(100), 9)) chunked.push(value);
      assert.deepEqual(chunked, range(100).map(t.sqr));
      const unordered: number[] = [];
      for await (const value of pool.imapUnordered(t.sqrLater, range(30), 4)) unordered.push(value);
      assert.deepEqual(unordered.sort((a, b) => a - b), range(30).map(t.sqr));
    });

    it('imap reads an endless generator lazily and stops reading when the loop breaks', async () => {
      let produced = 0;
      function* naturals(): Generator<number> {
        for (let i = 0; ; i++) {
          produced++;
          yield i;
        }
      }
      const got: number[] = [];
      for await (const value of pool.imap(t.sqr, naturals())) {
        got.push(value);
        if (got.length === 25) break;
      }
      assert.deepEqual(got, range(25).map(t.sqr));
      const afterBreak = produced;
      assert.ok(afterBreak < 25 + 20, `read ${afterBreak} items for 25 results`);
      await pool.apply(t.sqr, [1]);
      assert.equal(produced, afterBreak, 'nothing more is read after the break');
      async function* slowly(): AsyncGenerator<number> {
        for (let i = 0; i < 10; i++) yield i;
      }
      assert.deepEqual(await pool.map(t.sqr, slowly()), range(10).map(t.sqr), 'map takes an async iterable');
    });

    it("an input that throws: map rejects with the input's own error (test_map_handle_iterable_exception)", async () => {
      for (const [total, when] of [[1, -1], [1, -1], [10, 3]]) {
        await assert.rejects(pool.map(t.sqr, throwingAt(total, when), 1), SayWhenError);
        await assert.rejects(pool.map(t.sqr, throwingAtAsync(total, when), 1), SayWhenError);
        await assert.rejects(pool.starmap(t.mul, pairsThrowingAt(total, when), 1), SayWhenError);
      }
    });

    it("an input that throws: imap yields every complete chunk before it, then its own error (test_imap_handle_iterable_exception)", async () => {
      for (const source of [throwingAt, throwingAtAsync]) {
        for (let round = 0; round < 2; round++) {
          const it = pool.imap(t.sqr, source(1, -1), 1);
          await assert.rejects(it.next(), SayWhenError);
        }
        // [total, when, chunksize, results before the error]: the chunk with `when` in it yields nothing.
        for (const [total, when, chunksize, before] of [[10, 3, 1, 3], [20, 7, 2, 6], [20, 7, 4, 4]]) {
          const it = pool.imap(t.sqr, source(total, when), chunksize);
          for (let i = 0; i < before; i++) assert.deepEqual(await it.next(), { value: i * i, done: false });
          await assert.rejects(it.next(), SayWhenError);
          assert.deepEqual(await it.next(), { value: undefined, done: true }, 'the iterator ends after the error');
        }
      }
    });

    it('an input that throws: imapUnordered yields results it has, then the error (test_imap_unordered_handle_iterable_exception)', async () => {
      for (let round = 0; round < 2; round++) {
        await assert.rejects(pool.imapUnordered(t.sqr, throwingAt(1, -1), 1).next(), SayWhenError);
      }
      for (const [total, when, chunksize] of [[10, 3, 1], [20, 7, 2]]) {
        const expected = range(total).map(t.sqr);
        const it = pool.imapUnordered(t.sqr, throwingAt(total, when), chunksize);
        await assert.rejects(async () => {
          for (let i = 0; i < total; i++) {
            const { value } = await it.next();
            const at = expected.indexOf(value as number);
            assert.ok(at >= 0, `${String(value)} is one of the results`);
            expected.splice(at, 1);
          }
        }, SayWhenError);
      }
    });

    it("a task's error is rethrown with its name and message, the child's stack in a RemoteError cause", async () => {
      const error = await pool.apply(t.raise, ['went wrong']).then(
        () => assert.fail('expected a rejection'),
        (e: Error) => e,
      );
      assert.ok(error instanceof t.TaskFailure, 'the same class, found by reference');
      assert.equal(error.message, 'went wrong');
      assert.ok(error.cause instanceof mp.RemoteError);
      assert.match((error.cause as Error).stack ?? '', /raise/);
      await assert.rejects(pool.apply(t.raiseLater, ['async']), { name: 'RangeError', message: 'async' });
      await assert.rejects(pool.map(t.raiseIfFive, range(10), 2), { message: 'item 5 failed' });
      const items: number[] = [];
      await assert.rejects(
        (async () => {
          for await (const value of pool.imap(t.raiseIfFive, range(10))) items.push(value);
        })(),
        { message: 'item 5 failed' },
      );
      assert.deepEqual(items, [0, 1, 2, 3, 4], 'imap yields what came before the failure');
      await assert.rejects(pool.apply(t.unserializable), mp.SerializationError, 'a result that cannot cross fails its task');
      assert.equal(await pool.apply(t.sqr, [3]), 9, 'the pool goes on serving');
    });

    it(`workers are daemonic and named ${prefixes[method]}-N`, async () => {
      const who = await pool.apply(t.whoAmI);
      assert.match(who.name, new RegExp(`^${prefixes[method]}-\\d+$`));
      assert.notEqual(who.pid, process.pid);
    });

    it('a worker SIGKILLed mid-task fails only that task (WorkerLostError); a replacement serves the rest', async () => {
      const marker = path.join(dir, `die-${method}`);
      const doomed = pool.apply(t.dieOnce, [marker, 1]);
      const others = range(8).map((i) => pool.apply(t.sqrLater, [i, 5]));
      await assert.rejects(doomed, (e: Error) => e instanceof mp.WorkerLostError && /signal SIGKILL/.test(e.message));
      assert.deepEqual(await Promise.all(others), range(8).map(t.sqr));
      await assert.rejects(pool.apply(t.exitWith, [3]), (e: Error) => e instanceof mp.WorkerLostError && /code 3/.test(e.message));
      assert.deepEqual(await pool.map(t.sqr, range(10)), range(10).map(t.sqr));
      const pids = new Set(await pool.map(t.pidOf, range(8), 1));
      assert.ok(pids.size >= 1 && pids.size <= 2, 'still two workers at most');
    });

    it('a worker that died while idle is replaced, and no task is blamed on it', async () => {
      const { pid } = await pool.apply(t.whoAmI);
      process.kill(pid, 'SIGKILL');
      // Its exit known (activeChildren() polls every child), before any task goes to it.
      await waitUntil(() => !mp.activeChildren().some((child) => child.pid === pid), WAIT_MS, 'the worker to be seen dead');
      assert.deepEqual(await pool.map(t.sqr, range(20), 1), range(20).map(t.sqr));
    });

    it("a task's timeout counts from its start: queued time does not count; a late task fails alone", async () => {
      // Both workers busy for 300 ms; tasks queued behind them have 250 ms each once started.
      const busy = [pool.apply(t.spin, [300, 'a']), pool.apply(t.spin, [300, 'b'])];
      const queued = range(4).map((i) => pool.apply(t.sqr, [i], { timeout: 250 }));
      assert.deepEqual(await Promise.all(busy), ['a', 'b']);
      assert.deepEqual(await Promise.all(queued), [0, 1, 4, 9]);
      const late = pool.apply(t.sleepThen, [60000, 'never'], { timeout: 100 });
      const meanwhile = range(6).map((i) => pool.apply(t.sqr, [i]));
      await assert.rejects(late, mp.TimeoutError);
      assert.deepEqual(await Promise.all(meanwhile), range(6).map(t.sqr));
    });

    it('an AbortSignal cancels a queued task (it never runs) and a running one (its worker is replaced)', async () => {
      const busy = [pool.apply(t.spin, [200, 1]), pool.apply(t.spin, [200, 2])];
      const controller = new AbortController();
      const file = path.join(dir, `aborted-${method}`);
      const queued = pool.apply(t.touch, [file], { signal: controller.signal });
      controller.abort(new Error('not needed'));
      await assert.rejects(queued, { message: 'not needed' });
      await Promise.all(busy);
      await pool.apply(t.sqr, [1]);
      assert.equal(fs.existsSync(file), false, 'the aborted task never ran');
      const running = new AbortController();
      const long = pool.apply(t.sleepThen, [60000, 'never'], { signal: running.signal });
      await pool.apply(t.sqr, [2]);
      running.abort(new Error('stop it'));
      await assert.rejects(long, { message: 'stop it' });
      assert.deepEqual(await pool.map(t.sqr, range(5)), range(5).map(t.sqr));
      await assert.rejects(pool.apply(t.sqr, [1], { signal: AbortSignal.abort(new Error('already')) }), { message: 'already' });
    });

    it('initializer runs once per worker with initargs; maxtasksperchild replaces workers (test_pool_initializer, maxtasksperchild)', async () => {
      const p = new ctx.Pool({ processes: 2, initializer: t.initialize, initargs: ['x', 2], maxtasksperchild: 3 });
      try {
        const states = await p.map(t.initState, range(10), 1);
        for (const state of states) {
          assert.deepEqual(state.args, ['x', 2]);
          assert.equal(state.count, 1);
        }
        const perWorker = new Map<number, number>();
        for (const state of states) perWorker.set(state.pid, (perWorker.get(state.pid) ?? 0) + 1);
        assert.ok(perWorker.size >= 4, `10 tasks, 3 per worker: at least 4 workers (${perWorker.size})`);
        for (const [, n] of perWorker) assert.ok(n <= 3, `a worker ran ${n} tasks`);
      } finally {
        p.close();
        await p.join();
      }
    });

    it('maxMemoryPerChild replaces a worker whose memory grew past it', async () => {
      const p = new ctx.Pool({ processes: 1, maxMemoryPerChild: 200 * 1024 * 1024 });
      try {
        const first = await p.apply(t.grow, [1]);
        const second = await p.apply(t.grow, [250]);
        assert.equal(first, second, 'the same worker until then');
        const third = await p.apply(t.pidOf);
        assert.notEqual(third, second, 'a new worker after the bloated one');
      } finally {
        await p.terminate();
      }
    });

    it('close() refuses new work, join() waits; join() before close() and work after terminate() throw ProcessError', async () => {
      const p = new ctx.Pool(2);
      await assert.rejects(p.join(), mp.ProcessError);
      const pending = p.map(t.sqrLater, range(8), 1);
      p.close();
      assert.throws(() => p.applyAsync(t.sqr, [1]), mp.ProcessError);
      await p.join();
      assert.deepEqual(await pending, range(8).map(t.sqr));
      const q = new ctx.Pool(1);
      const stuck = assert.rejects(q.apply(t.sleepThen, [60000, 'never']), mp.ProcessError);
      await q.terminate();
      await stuck;
      assert.throws(() => q.applyAsync(t.sqr, [1]), mp.ProcessError);
      await q.join();
    });

    it('await using terminates the pool at the end of the scope (test_context)', async () => {
      let inner: mp.Pool | undefined;
      {
        await using p = new ctx.Pool(1);
        inner = p;
        assert.equal(await p.apply(t.sqr, [4]), 16);
      }
      assert.throws(() => inner?.applyAsync(t.sqr, [1]), mp.ProcessError);
    });
  });
}

describe('Pool in one process', () => {
  it('rejects bad input naming the parameter', () => {
    assert.throws(() => new mp.Pool(0), (e: Error) => e instanceof RangeError && /processes/.test(e.message));
    assert.throws(() => new mp.Pool({ maxtasksperchild: -1 }), (e: Error) => e instanceof RangeError && /maxtasksperchild/.test(e.message));
    assert.throws(() => new mp.Pool({ initializer: 3 as unknown as () => void }), (e: Error) => e instanceof TypeError && /initializer/.test(e.message));
  });

  it('an open pool does not keep the program alive', async () => {
    const result = await runFixture('pool_open', [], { timeoutMs: 30000 });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), '[0,1,4,9]');
  });

  it('a million-item map comes back whole and in order', async () => {
    const p = new mp.Pool(2);
    try {
      const items = range(1_000_000);
      const results = await p.map(t.identity, items);
      assert.equal(results.length, items.length);
      assert.equal(results[999_999], 999_999);
      assert.ok(results.every((value, i) => value === i));
    } finally {
      await p.terminate();
    }
  });
});
