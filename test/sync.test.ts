// Lock, RLock, Semaphore, BoundedSemaphore, Condition, Event, Barrier
// between processes of every start method (ports of CPython's
// _test_multiprocessing lock/semaphore/condition/event/barrier tests), and
// their rules in one process.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import * as mp from '../lib/index';
import * as t from './fixtures/sync_targets';
import { exitCodes, killActiveChildren, startIn, tempDir, waitUntil } from './support/helpers';

const JOIN_MS = 20000;
const WAIT_MS = 10000;
const methods: mp.StartMethod[] = ['fork', 'spawn', 'forkserver'];

function semaphoresInShm(): Set<string> {
  return new Set(fs.readdirSync('/dev/shm').filter((name) => name.startsWith('sem.mp-')));
}

/** Takes `n` units of `sem`, each within WAIT_MS. */
async function take(sem: mp.Semaphore, n: number, what: string): Promise<void> {
  for (let i = 0; i < n; i++) assert.equal(await sem.acquire({ timeout: WAIT_MS }), true, `${what}: ${i} of ${n}`);
}

for (const method of methods) {
  describe(`synchronization between processes (${method})`, () => {
    const ctx = mp.getContext(method);
    let dir: string;
    before(() => {
      dir = tempDir();
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    afterEach(() => killActiveChildren(JOIN_MS));

    const start = (target: (...args: never[]) => unknown, ...args: unknown[]): mp.Process => startIn(ctx, target, ...args);
    const joinAll = (children: mp.Process[]): Promise<Array<number | null>> => exitCodes(children, JOIN_MS);

    it('Lock: N processes x M increments under the lock add up to exactly N*M', async () => {
      const file = path.join(dir, `counter-${method}`);
      fs.writeFileSync(file, '0');
      const lock = new ctx.Lock();
      const times = 120;
      const children = [
        start(t.countUnderLock, lock, file, times),
        start(t.countUnderLock, lock, file, times),
        start(t.countUnderLockAsync, lock, file, times),
        start(t.countUnderLockAsync, lock, file, times),
      ];
      t.countUnderLock(lock, file, times);
      assert.deepEqual(await joinAll(children), [0, 0, 0, 0]);
      assert.equal(Number(fs.readFileSync(file, 'utf8')), 5 * times);
      assert.equal(lock.locked(), false);
    });

    it('RLock: only the owner releases; others cannot take it until it is fully released', async () => {
      const rlock = new ctx.RLock();
      rlock.acquireSync();
      assert.equal(await rlock.acquire(), true, 'the owner takes it again');
      const acquired = new ctx.Semaphore(0);
      assert.deepEqual(await joinAll([start(t.releaseForeign, rlock), start(t.cannotAcquire, rlock, 50)]), [t.OK, t.OK]);
      const waiter = start(t.acquireAndReport, rlock, acquired);
      rlock.release();
      assert.equal(acquired.acquireSync({ block: false }), false, 'still held once');
      rlock.release();
      await take(acquired, 1, 'the other process got the lock');
      assert.deepEqual(await joinAll([waiter]), [0]);
      assert.throws(() => rlock.release(), mp.ProcessError);
    });

    it('Lock: held in one process, another times out; any process may release it', async () => {
      const lock = new ctx.Lock();
      lock.acquireSync();
      assert.deepEqual(await joinAll([start(t.cannotAcquire, lock, 50)]), [t.OK]);
      assert.deepEqual(await joinAll([start(t.releaseForeign, lock)]), [t.WRONG], 'a held Lock is released without error');
      assert.equal(lock.locked(), false);
    });

    it('Semaphore: at most `value` processes inside at once', async () => {
      const sem = new ctx.Semaphore(2);
      const inside = new ctx.Semaphore(0);
      const go = new ctx.Event();
      const children = [0, 1, 2].map(() => start(t.holdUntil, sem, inside, go));
      await take(inside, 2, 'two processes inside');
      assert.equal(sem.getValue(), 0);
      assert.equal(inside.acquireSync({ block: false }), false, 'a third process got in');
      go.set();
      await take(inside, 1, 'the third process inside after a release');
      assert.deepEqual(await joinAll(children), [0, 0, 0]);
      assert.equal(sem.getValue(), 2);
    });

    it('Condition: notify(n) wakes exactly n sleepers, notifyAll() the rest', async () => {
      const cond = new ctx.Condition();
      const ready = new ctx.Semaphore(0);
      const woke = new ctx.Semaphore(0);
      const children = [
        start(t.sleepOnCondition, cond, ready, woke),
        start(t.sleepOnConditionSync, cond, ready, woke),
        start(t.sleepOnCondition, cond, ready, woke),
        start(t.sleepOnConditionSync, cond, ready, woke),
      ];
      await take(ready, 4, 'sleepers ready');
      await cond.acquire();
      cond.notify(2);
      cond.release();
      await take(woke, 2, 'two sleepers woke');
      assert.equal(woke.acquireSync({ block: false }), false, 'more than two woke');
      await cond.acquire();
      cond.notifyAll();
      cond.release();
      await take(woke, 2, 'the rest woke');
      assert.deepEqual(await joinAll(children), [0, 0, 0, 0]);
    });

    it('Condition: waitFor() sees a predicate over shared state become true', async () => {
      const cond = new ctx.Condition(new ctx.Lock());
      const level = new ctx.Semaphore(0);
      const done = new ctx.Semaphore(0);
      const waiters = [start(t.waitForLevel, cond, level, 3, done), start(t.waitForLevel, cond, level, 3, done)];
      for (let i = 0; i < 3; i++) start(t.raiseLevel, cond, level);
      await take(done, 2, 'both waiters saw the level');
      assert.deepEqual(await joinAll(waiters), [t.OK, t.OK]);
      assert.equal(level.getValue(), 3);
    });

    it('Event: set() wakes every waiter, sync and async; isSet() agrees everywhere', async () => {
      const event = new ctx.Event();
      const done = new ctx.Semaphore(0);
      const children = [start(t.waitForEvent, event, done, false), start(t.waitForEvent, event, done, true)];
      assert.equal(event.isSet(), false);
      assert.deepEqual(await joinAll([start(t.setEvent, event)]), [0]);
      assert.equal(event.isSet(), true);
      await take(done, 2, 'waiters woke');
      assert.deepEqual(await joinAll(children), [t.OK, t.OK]);
      event.clear();
      assert.equal(event.isSet(), false);
      assert.equal(await event.wait(30), false);
    });

    it('Barrier: every party gets a distinct index and the action runs once', async () => {
      const file = t.barrierActionFile(process.pid);
      fs.rmSync(file, { force: true });
      const barrier = new ctx.Barrier(4, { action: t.barrierAction, timeout: WAIT_MS });
      const children = [start(t.barrierParty, barrier, null, false), start(t.barrierParty, barrier, null, true), start(t.barrierParty, barrier, null, false)];
      const mine = await barrier.wait();
      const codes = await joinAll(children);
      const indices = [mine, ...codes.map((c) => (c as number) - 10)].sort();
      assert.deepEqual(indices, [0, 1, 2, 3]);
      assert.equal(fs.readFileSync(file, 'utf8').trim().split('\n').length, 1, 'the action ran once');
      fs.rmSync(file);
      assert.equal(barrier.broken, false);
      assert.equal(barrier.nWaiting, 0);
    });

    it('Barrier: with more parties than processes, wait() times out and breaks it for everyone', async () => {
      const barrier = new ctx.Barrier(4);
      const children = [start(t.barrierParty, barrier, 200, false), start(t.barrierParty, barrier, null, true)];
      assert.deepEqual(await joinAll(children), [t.BROKEN, t.BROKEN]);
      assert.equal(barrier.broken, true);
      await assert.rejects(barrier.wait(), mp.BrokenBarrierError);
      barrier.reset();
      assert.equal(barrier.broken, false);
    });

    it('Barrier: abort() wakes every waiting party with BrokenBarrierError', async () => {
      const barrier = new ctx.Barrier(5);
      const children = [start(t.barrierParty, barrier, null, false), start(t.barrierParty, barrier, null, true), start(t.barrierParty, barrier, null, false)];
      await waitUntil(() => barrier.nWaiting === 3, WAIT_MS, 'three parties to wait');
      barrier.abort();
      assert.deepEqual(await joinAll(children), [t.BROKEN, t.BROKEN, t.BROKEN]);
      assert.equal(barrier.broken, true);
    });

    it('a process that exits with async acquires pending neither crashes nor hangs, and takes nothing', async () => {
      const lock = new ctx.Lock();
      lock.acquireSync();
      const pending = new ctx.Semaphore(0);
      assert.deepEqual(await joinAll([start(t.exitWithWaitPending, lock, pending)]), [7]);
      lock.release();
      assert.equal(lock.acquireSync({ timeout: WAIT_MS }), true, 'the lock is free again');
      lock.release();
    });

    it("a child's semaphores do not outlive it", async () => {
      const before = semaphoresInShm();
      assert.deepEqual(await joinAll([start(t.createAndLeave)]), [0]);
      const left = [...semaphoresInShm()].filter((name) => !before.has(name));
      assert.deepEqual(left, []);
    });
  });
}

const WAITERS = 200;

for (const method of methods) {
  describe(`hundreds of async waits in one process, woken by a child (${method})`, () => {
    const ctx = mp.getContext(method);
    afterEach(() => killActiveChildren(JOIN_MS));

    it(`${WAITERS} waits of each kind at once, with sync calls between: no crash, the loop stays free, all complete`, async function () {
      this.timeout(JOIN_MS * 3);
      const parts: t.WakeParts = {
        waiters: WAITERS,
        event: new ctx.Event(),
        cond: new ctx.Condition(),
        flag: ctx.RawValue('i', 0),
        semaphore: new ctx.Semaphore(0),
        bounded: new ctx.BoundedSemaphore(WAITERS),
        lock: new ctx.Lock(),
        rlock: new ctx.RLock(),
        barrier: new ctx.Barrier(WAITERS + 1),
        queue: new ctx.Queue<number>(),
        joinable: new ctx.JoinableQueue<number>(),
        holding: new ctx.Event(),
        go: new ctx.Event(),
      };
      for (let i = 0; i < WAITERS; i++) parts.bounded.acquireSync();
      parts.lock.acquireSync(); // the child releases it (any process may release a Lock)
      await parts.joinable.put(0);
      const child = startIn(ctx, t.wakeEverything, parts);
      assert.equal(await parts.holding.wait(WAIT_MS), true, 'the child holds the RLock');

      const times = (wait: () => Promise<unknown>): Array<Promise<unknown>> => Array.from({ length: WAITERS }, wait);
      const waits = {
        event: times(() => parts.event.wait(JOIN_MS)),
        condition: times(() => parts.cond.withLock(() => parts.cond.waitFor(() => parts.flag.value === 1, JOIN_MS))),
        conditionWait: times(async () => {
          await parts.cond.acquire();
          try {
            while (parts.flag.value !== 1) if (!(await parts.cond.wait(JOIN_MS))) return false;
            return true;
          } finally {
            parts.cond.release();
          }
        }),
        semaphore: times(() => parts.semaphore.acquire({ timeout: JOIN_MS })),
        bounded: times(() => parts.bounded.acquire({ timeout: JOIN_MS })),
        lock: times(async () => {
          const got = await parts.lock.acquire({ timeout: JOIN_MS });
          if (got) parts.lock.release();
          return got;
        }),
        rlock: times(async () => {
          const got = await parts.rlock.acquire({ timeout: JOIN_MS });
          if (got) parts.rlock.release();
          return got;
        }),
        queue: times(() => parts.queue.get({ timeout: JOIN_MS })),
        joinable: times(() => parts.joinable.join().then(() => true)),
        barrier: times(() => parts.barrier.wait(JOIN_MS)),
      };

      // Sync calls on the same objects while all of that is pending, and the loop turns.
      const loopTurned = new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(parts.event.isSet(), false);
      assert.equal(parts.semaphore.getValue(), 0);
      assert.equal(parts.lock.locked(), true);
      assert.equal(parts.queue.empty(), true);
      parts.cond.acquireSync();
      parts.cond.notifyAll(); // wakes sleepers whose predicate is still false: they sleep again
      parts.cond.release();
      const startedAt = Date.now();
      await loopTurned;
      assert.ok(Date.now() - startedAt < 2000, 'the event loop was slow while the waits were pending');
      parts.go.set();

      const settled = Object.fromEntries(
        await Promise.all(Object.entries(waits).map(async ([kind, list]) => [kind, await Promise.all(list)] as const)),
      );
      for (const kind of ['event', 'condition', 'conditionWait', 'semaphore', 'bounded', 'lock', 'rlock', 'joinable']) {
        assert.deepEqual(settled[kind], new Array(WAITERS).fill(true), kind);
      }
      assert.deepEqual([...(settled.queue as number[])].sort((a, b) => a - b), range(WAITERS), 'each queue item once');
      const indexes = new Set(settled.barrier as number[]);
      assert.equal(indexes.size, WAITERS, 'every party of this process has its own index');
      assert.equal(await exitCodes([child], JOIN_MS).then(([code]) => code), 0);
      assert.equal(parts.lock.locked(), false, 'each lock waiter released what it took');
      assert.equal(parts.rlock.acquireSync({ block: false }), true, 'the RLock is free again');
      parts.rlock.release();
      assert.equal(parts.semaphore.getValue(), 0);
      assert.throws(() => parts.cond.release(), mp.ProcessError, 'every condition hold was released once');
    });
  });
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

describe('synchronization under fork: inherited, not re-opened', () => {
  const ctx = mp.getContext('fork');

  it("a lock held by the parent is held in the child, which does not own it", async () => {
    const rlock = new ctx.RLock();
    rlock.acquireSync();
    const p = new ctx.Process({
      target: () => (rlock.acquireSync({ block: false }) ? process.exit(1) : t.releaseForeign(rlock)),
    });
    p.start();
    await p.join(JOIN_MS);
    assert.equal(p.exitCode, t.OK);
    rlock.release();
  });
});

describe('synchronization in one process', () => {
  it('Lock and RLock follow their release rules', () => {
    const lock = new mp.Lock();
    assert.throws(() => lock.release(), { name: 'ProcessError', message: /released too many times/ });
    assert.equal(lock.acquireSync(), true);
    assert.equal(lock.locked(), true);
    assert.equal(lock.acquireSync({ block: false }), false);
    assert.equal(lock.acquireSync({ timeout: 10 }), false);
    lock.release();
    const rlock = new mp.RLock();
    assert.throws(() => rlock.release(), { name: 'ProcessError', message: /not owned/ });
    for (let i = 0; i < 5; i++) assert.equal(rlock.acquireSync(), true);
    for (let i = 0; i < 5; i++) rlock.release();
    assert.throws(() => rlock.release(), mp.ProcessError);
  });

  it('Semaphore counts, BoundedSemaphore refuses to go above its initial value', () => {
    const sem = new mp.Semaphore(3);
    assert.equal(sem.getValue(), 3);
    for (let i = 0; i < 3; i++) assert.equal(sem.acquireSync({ block: false }), true);
    assert.equal(sem.acquireSync({ block: false }), false);
    sem.release(5);
    assert.equal(sem.getValue(), 5);
    const bounded = new mp.BoundedSemaphore(2);
    assert.throws(() => bounded.release(), { name: 'ProcessError', message: /released too many times/ });
    bounded.acquireSync();
    bounded.acquireSync();
    assert.throws(() => bounded.release(3), mp.ProcessError);
    assert.equal(bounded.getValue(), 0, 'nothing released by a refused release(n)');
    bounded.release(2);
    assert.equal(bounded.getValue(), 2);
    assert.ok(bounded instanceof mp.Semaphore);
  });

  it('bad input throws TypeError or RangeError naming the parameter, and creates nothing', () => {
    const before = semaphoresInShm();
    assert.throws(() => new mp.Semaphore(-1), { name: 'RangeError', message: /"value"/ });
    assert.throws(() => new mp.Semaphore(1.5), { name: 'RangeError', message: /"value"/ });
    assert.throws(() => new mp.BoundedSemaphore(-2), { name: 'RangeError', message: /"value"/ });
    assert.throws(() => new mp.Semaphore('2' as unknown as number), { name: 'TypeError', message: /"value"/ });
    assert.throws(() => new mp.Barrier(0), { name: 'RangeError', message: /"parties"/ });
    assert.throws(() => new mp.Barrier(2.5), { name: 'RangeError', message: /"parties"/ });
    assert.throws(() => new mp.Barrier(2, { action: 3 as unknown as () => void }), { name: 'TypeError', message: /"options.action"/ });
    assert.throws(() => new mp.Condition({} as mp.Lock), { name: 'TypeError', message: /"lock"/ });
    assert.deepEqual([...semaphoresInShm()].filter((n) => !before.has(n)), []);
    const lock = new mp.Lock();
    assert.throws(() => lock.acquireSync({ timeout: 'x' as unknown as number }), { name: 'TypeError', message: /"options.timeout"/ });
    const sem = new mp.Semaphore(0);
    assert.throws(() => sem.release(0), { name: 'RangeError', message: /"n"/ });
    assert.throws(() => sem.release(-1), { name: 'RangeError', message: /"n"/ });
  });

  it('rejects, not throws, bad input to async waits', async () => {
    const lock = new mp.Lock();
    await assert.rejects(lock.acquire({ timeout: 'x' as unknown as number }), { name: 'TypeError' });
    await assert.rejects(lock.acquire({ signal: {} as AbortSignal }), { name: 'TypeError', message: /"options.signal"/ });
    assert.equal(lock.locked(), false);
  });

  it('Condition: wait() and notify() need the lock; wait(timeout) returns false', async () => {
    const cond = new mp.Condition();
    await assert.rejects(cond.wait(10), { name: 'ProcessError', message: /acquire/ });
    assert.throws(() => cond.waitSync(10), mp.ProcessError);
    assert.throws(() => cond.notify(), mp.ProcessError);
    cond.acquireSync();
    cond.acquireSync();
    assert.equal(await cond.wait(20), false);
    assert.equal(cond.waitSync(20), false);
    assert.equal(await cond.waitFor(() => false, 20), false);
    assert.equal(await cond.waitFor(() => true), true);
    cond.notifyAll();
    cond.release();
    cond.release();
    assert.throws(() => cond.release(), mp.ProcessError, 'the RLock was held twice, released twice');
  });

  it('Condition: tasks of one thread share its RLock; each waits, is woken and releases once, whoever notifies', async () => {
    const cond = new mp.Condition();
    let ready = false;
    let waits = 0;
    const tasks = Array.from({ length: 50 }, async (_, i) => {
      await cond.acquire();
      if (i % 2 === 0) await cond.acquire(); // held twice by some: wait() releases and restores both
      try {
        while (!ready) {
          waits++;
          assert.equal(await cond.wait(WAIT_MS), true);
        }
      } finally {
        if (i % 2 === 0) cond.release();
        cond.release();
      }
    });
    // Once they sleep (the flag keeps it correct either way), a task of the same thread notifies.
    await new Promise((resolve) => setImmediate(resolve));
    await cond.withLock(() => {
      ready = true;
      cond.notifyAll();
    });
    await Promise.all(tasks);
    assert.equal(waits, 50, 'every task waited');
    assert.throws(() => cond.release(), mp.ProcessError, 'every hold was released exactly once');
    assert.equal(cond.acquireSync({ block: false }), true, 'the lock is free');
    cond.release();
  });

  it('Condition: an async sleeper in this process is woken by notify() from this process', async () => {
    const cond = new mp.Condition();
    await cond.acquire();
    const sleeping = cond.wait(WAIT_MS);
    // wait() released the lock and registered as a sleeper synchronously.
    cond.acquireSync();
    cond.notify();
    cond.release();
    assert.equal(await sleeping, true);
    cond.release();
  });

  it('holdSync() and hold() release at the end of their scope', async () => {
    const lock = new mp.Lock();
    {
      using _held = lock.holdSync();
      assert.equal(lock.locked(), true);
    }
    assert.equal(lock.locked(), false);
    {
      await using _held = await lock.hold();
      assert.equal(lock.locked(), true);
    }
    assert.equal(lock.locked(), false);
    await assert.rejects(
      lock.withLock(() => {
        assert.equal(lock.locked(), true);
        throw new Error('inside');
      }),
      /inside/,
    );
    assert.equal(lock.locked(), false);
    assert.equal(await lock.withLock(async () => 5), 5);
  });

  it('an aborted acquire rejects with the reason and leaves nothing acquired', async () => {
    const sem = new mp.Semaphore(0);
    const controller = new AbortController();
    const waiting = sem.acquire({ signal: controller.signal });
    const reason = new Error('stop waiting');
    controller.abort(reason);
    await assert.rejects(waiting, (e) => e === reason);
    sem.release();
    assert.equal(sem.getValue(), 1, 'the aborted wait took nothing');
    await assert.rejects(sem.acquire({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
    assert.equal(sem.getValue(), 1);
  });

  it('aborted Condition, Event and Barrier waits reject with the reason; the condition lock is held again', async () => {
    const reason = new Error('enough');
    const cond = new mp.Condition();
    await cond.acquire();
    const controller = new AbortController();
    const waiting = cond.wait({ signal: controller.signal });
    controller.abort(reason);
    await assert.rejects(waiting, (e) => e === reason);
    cond.notify(); // holds the lock again: notify() would throw otherwise
    cond.release();
    const event = new mp.Event();
    const eventController = new AbortController();
    const eventWait = event.wait(null, { signal: eventController.signal });
    eventController.abort(reason);
    await assert.rejects(eventWait, (e) => e === reason);
    event.set();
    assert.equal(await event.wait(WAIT_MS), true);
    const barrier = new mp.Barrier(2);
    const barrierController = new AbortController();
    const barrierWait = barrier.wait({ signal: barrierController.signal });
    await waitUntil(() => barrier.nWaiting === 1, WAIT_MS, 'the party to wait');
    barrierController.abort(reason);
    await assert.rejects(barrierWait, (e) => e === reason);
    assert.equal(barrier.broken, true, 'a party that leaves breaks the barrier, as a timeout does');
  });

  it("a sync acquire is not starved by this thread's own async waits (no deadlock in one process)", async () => {
    const sem = new mp.Semaphore(0);
    const waiting = sem.acquire({ timeout: 30000 });
    await new Promise((resolve) => setImmediate(resolve)); // the waiter thread is blocked on it now
    sem.release();
    // The waiter thread takes the unit for the pending promise, which cannot
    // be delivered while this thread blocks below: spin until it has.
    const deadline = Date.now() + 5000;
    while (sem.getValue() !== 0 && Date.now() < deadline);
    const startedAt = Date.now();
    assert.equal(sem.acquireSync({ timeout: 5000 }), true, 'the sync acquire got the unit the waiter had taken');
    assert.ok(Date.now() - startedAt < 2000, 'it did not wait for its timeout');
    let settled = false;
    void waiting.then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, 'the async wait goes on');
    sem.release();
    assert.equal(await waiting, true);
    assert.equal(sem.getValue(), 0);
  });

  it('async timeouts resolve false and take nothing', async () => {
    const lock = new mp.Lock();
    lock.acquireSync();
    const startedAt = Date.now();
    assert.equal(await lock.acquire({ timeout: 50 }), false);
    assert.ok(Date.now() - startedAt >= 45);
    // Longer than a timer can count: for ever, not Node's 1 ms fallback.
    let settled = 0;
    const forever = [lock.acquire({ timeout: Infinity }), lock.acquire({ timeout: 2 ** 40 })].map((p) => p.then((ok) => (settled++, ok)));
    assert.equal(lock.acquireSync({ timeout: 30 }), false);
    assert.equal(await lock.acquire({ timeout: 30 }), false);
    assert.equal(settled, 0);
    lock.release();
    assert.equal(await forever[0], true);
    lock.release();
    assert.equal(await forever[1], true);
    lock.release();
    assert.equal(lock.acquireSync({ timeout: Infinity }), true);
    lock.release();
    assert.equal(lock.locked(), false);
  });

  it('256 pending async acquires leave the event loop free, then complete one per release', async () => {
    const http = await import('node:http');
    const lock = new mp.Lock();
    lock.acquireSync();
    let acquired = 0;
    const waits = Array.from({ length: 256 }, () => lock.acquire({ timeout: 60000 }).then((ok) => {
      assert.equal(ok, true);
      acquired++;
    }));
    const server = http.createServer((_req, res) => res.end('pong'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const startedAt = Date.now();
      const [text, body] = await Promise.all([
        fs.promises.readFile(__filename, 'utf8'),
        new Promise<string>((resolve, reject) => {
          http.get({ host: '127.0.0.1', port, path: '/' }, (res) => {
            let data = '';
            res.on('data', (chunk) => (data += chunk));
            res.on('end', () => resolve(data));
          }).on('error', reject);
        }),
        new Promise((resolve) => setTimeout(resolve, 10)),
      ]);
      assert.ok(text.length > 0);
      assert.equal(body, 'pong');
      assert.ok(Date.now() - startedAt < 2000, 'the event loop was slow to serve');
      assert.equal(acquired, 0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    for (let i = 1; i <= 256; i++) {
      lock.release();
      await waits[i - 1]; // first come, first served
      assert.equal(acquired, i, 'one release lets exactly one acquire through');
    }
    lock.release();
    assert.equal(lock.locked(), false);
  });

  it('semaphores this process created are unlinked when it exits', async () => {
    const { execFileSync } = await import('node:child_process');
    const before = semaphoresInShm();
    const script = `const mp = require(${JSON.stringify(path.resolve(__dirname, '..', 'lib', 'index.js'))});
      const keep = [new mp.Lock(), new mp.RLock(), new mp.Semaphore(2), new mp.Condition(), new mp.Event(), new mp.Barrier(3)];
      keep[0].acquireSync();
      process.stdout.write(String(keep.length));`;
    assert.equal(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: JOIN_MS }), '6');
    assert.deepEqual([...semaphoresInShm()].filter((n) => !before.has(n)), []);
  });
});
