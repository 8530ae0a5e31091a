// Managers (docs/API.md section 8) as programs use them, and each of
// Python's manager pitfalls that this package means to avoid: nested
// proxies are live, proxies cross to children of every start method and
// keep working, the server goes with the program that started it, and a
// proxy whose server is gone fails at once.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

import * as mp from '../lib/index';
import * as t from './fixtures/manager_targets';
import { exitCodes, fixture, isRunning, killActiveChildren, startIn, waitUntil, withTimeout } from './support/helpers';

const JOIN_MS = 30000;
const WAIT_MS = 20000;
const methods: mp.StartMethod[] = ['fork', 'spawn', 'forkserver'];

v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

/** Collects until the server's count of objects is `expected` (finalizers run after a collection, on a later turn). */
async function settlesAt(manager: mp.SyncManager, expected: number): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    collectGarbage();
    await new Promise((resolve) => setImmediate(resolve));
    const count = await manager.numberOfObjects();
    if (count === expected) return;
    if (Date.now() > deadline) assert.equal(count, expected, `objects in the server:\n${await manager.debugInfo()}`);
  }
}

for (const method of methods) {
  describe(`managers (${method})`, function () {
    const ctx = mp.getContext(method);
    let manager: mp.SyncManager;

    before(async function () {
      manager = await withTimeout(ctx.Manager(), 'Manager()', WAIT_MS);
    });

    after(async function () {
      await manager?.shutdown();
    });

    afterEach(async function () {
      // Every child but the manager's server, which the next test uses.
      for (const child of mp.activeChildren()) {
        if (child === manager.process) continue;
        child.kill();
        await child.join(JOIN_MS);
      }
    });

    it("the seed's Lock-protected list: ten processes append, each once", async function () {
      const list = await manager.list<number>();
      const lock = await manager.Lock();
      const children = Array.from({ length: 10 }, () => startIn(ctx, t.appendUnderLock, list, lock));
      assert.deepEqual(await exitCodes(children, JOIN_MS), Array(10).fill(0));
      assert.deepEqual((await list.toArray()).sort(), children.map((c) => c.pid).sort());
      assert.equal(await lock.locked(), false);
    });

    it('what a plain target appends without awaiting arrives, whether it returns or exits at once', async function () {
      const list = await manager.list<string>();
      const returned = startIn(ctx, t.appendAndReturn, list, 'returned');
      const exited = startIn(ctx, t.appendAndExit, list, 'exited');
      assert.deepEqual(await exitCodes([returned, exited], JOIN_MS), [0, 0]);
      assert.deepEqual((await list.toArray()).sort(), ['exited', 'returned']);
    });

    it('a nested proxy is live: a list stored in a dict is changed through what get() returns', async function () {
      const d = await manager.dict<string, unknown>();
      const inner = await manager.list<number>();
      await d.set('k', inner);
      const fetched = (await d.get('k')) as mp.managers.ListProxy<number>;
      assert.ok(fetched instanceof mp.managers.ListProxy);
      await fetched.append(1);
      assert.deepEqual(await inner.toArray(), [1]);
      // A plain object stored in a dict is a value: changing what get() returns changes a copy.
      await d.set('plain', { items: [] as number[] });
      const copy = (await d.get('plain')) as { items: number[] };
      copy.items.push(1);
      assert.deepEqual(await d.get('plain'), { items: [] });
    });

    it('a proxy passed through a Queue into a child works there', async function () {
      const queue = new mp.Queue<mp.managers.ListProxy<string>>();
      const list = await manager.list<string>();
      const child = startIn(ctx, t.appendToQueued, queue, 'via queue');
      await queue.put(list);
      assert.deepEqual(await exitCodes([child], JOIN_MS), [0]);
      assert.deepEqual(await list.toArray(), ['via queue']);
      queue.close();
    });

    it("a list a child made and put on a Queue outlives the child's exit", async function () {
      const queue = new mp.Queue<mp.managers.ListProxy<string>>();
      const child = startIn(ctx, t.makeAndHandOver, manager, queue);
      const list = await withTimeout(queue.get(), 'the proxy from the child', WAIT_MS);
      assert.deepEqual(await exitCodes([child], JOIN_MS), [0]);
      await list.append('and the parent');
      assert.deepEqual(await list.toArray(), ['made by the child', 'and the parent']);
      queue.close();
    });

    it('a referent lives while any process holds a proxy of it, and goes with the last', async function () {
      await settlesAt(manager, 0);
      let list: mp.managers.ListProxy<string> | null = await manager.list<string>();
      const [here, there] = mp.Pipe();
      const child = startIn(ctx, t.holdUntilTold, list, there);
      assert.equal(await withTimeout(here.recv(), 'the child holding', WAIT_MS), 'holding');
      list = null;
      await settlesAt(manager, 1);
      here.send('go');
      assert.deepEqual(await exitCodes([child], JOIN_MS), [0]);
      await settlesAt(manager, 0);
      here.close();
      there.close();
    });

    it("a proxy sent back by a child that exits at once still works", async function () {
      const list = await manager.list<string>(['x']);
      const [here, there] = mp.Pipe();
      const child = startIn(ctx, t.sendBack, there, list);
      const back = (await withTimeout(here.recv(), 'the proxy', WAIT_MS)) as mp.managers.ListProxy<string>;
      assert.deepEqual(await exitCodes([child], JOIN_MS), [0]);
      assert.deepEqual(await back.toArray(), ['x']);
      here.close();
      there.close();
    });

    it('300 concurrent waits on an Event proxy all end when a child sets it', async function () {
      const event = await manager.Event();
      const [here, there] = mp.Pipe();
      const child = startIn(ctx, t.setEventWhenTold, event, there);
      const waits = Array.from({ length: 300 }, () => event.wait(WAIT_MS));
      here.send('go');
      assert.deepEqual(await withTimeout(Promise.all(waits), '300 waits', WAIT_MS), Array(300).fill(true));
      assert.deepEqual(await exitCodes([child], JOIN_MS), [0]);
      here.close();
      there.close();
    });

    it('a Barrier proxy lets three processes through together, each with its own index', async function () {
      const barrier = await manager.Barrier(3);
      const out = await manager.list<number>();
      const children = [startIn(ctx, t.waitAtBarrier, barrier, out), startIn(ctx, t.waitAtBarrier, barrier, out)];
      const mine = await barrier.wait(WAIT_MS);
      assert.deepEqual(await exitCodes(children, JOIN_MS), [0, 0]);
      assert.deepEqual([mine, ...(await out.toArray())].sort(), [0, 1, 2]);
      assert.equal(await barrier.broken(), false);
    });

    it('an RLock proxy is owned by the process that took it', async function () {
      const rlock = await manager.RLock();
      const out = await manager.list<string>();
      assert.equal(await rlock.acquire(), true);
      assert.equal(await rlock.acquire(), true);
      const child = startIn(ctx, t.releaseForeign, rlock, out);
      assert.deepEqual(await exitCodes([child], JOIN_MS), [0]);
      assert.deepEqual(await out.toArray(), ['ProcessError']);
      await rlock.release();
      await rlock.release();
      await assert.rejects(rlock.release(), { name: 'ProcessError' });
    });

    it('a Condition proxy: a child waits for a predicate that the parent makes true', async function () {
      const cond = await manager.Condition();
      const list = await manager.list<number>();
      const [here, there] = mp.Pipe();
      const child = startIn(ctx, t.waitForCount, cond, list, 3, there);
      for (let i = 0; i < 3; i++) {
        await cond.withLock(async () => {
          await list.append(i);
          await cond.notifyAll();
        });
      }
      assert.equal(await withTimeout(here.recv(), 'the waiter', WAIT_MS), 3);
      assert.deepEqual(await exitCodes([child], JOIN_MS), [0]);
      here.close();
      there.close();
    });

    it('proxies work inside Pool tasks', async function () {
      const factor = await manager.dict<string, number>({ factor: 3 });
      const pool = new ctx.Pool(2);
      try {
        assert.deepEqual(await withTimeout(pool.starmap(t.scaleBy, [[factor, 1], [factor, 2]]), 'the map', WAIT_MS), [3, 6]);
      } finally {
        await pool.terminate();
      }
    });
  });
}

describe('managers: referents and errors', function () {
  let manager: mp.SyncManager;

  before(async function () {
    manager = await mp.Manager();
  });

  after(async function () {
    await manager?.shutdown();
  });

  it("a referent's error arrives with its name and message, the server's stack in a RemoteError cause", async function () {
    const list = await manager.list([1]);
    const error = await list.get(5).then(
      () => assert.fail('get(5) resolved'),
      (e: unknown) => e as Error,
    );
    assert.equal(error.name, 'IndexError');
    assert.equal(error.message, 'list index out of range');
    assert.ok(error.cause instanceof mp.RemoteError);
    assert.match(String((error.cause as Error).stack), /container_referents/);
    const queue = await manager.Queue();
    await assert.rejects(queue.getNowait(), (e: unknown) => e instanceof mp.Empty);
    await assert.rejects(queue.get({ timeout: 10 }), (e: unknown) => e instanceof mp.Empty);
  });

  it('list, dict, Namespace, Value and Array behave as Python’s', async function () {
    const list = await manager.list([3, 1, 2]);
    await list.extend([5, 4]);
    await list.sort();
    assert.deepEqual(await list.toArray(), [1, 2, 3, 4, 5]);
    assert.equal(await list.pop(), 5);
    assert.equal(await list.index(3), 2);
    assert.deepEqual(await list.slice(-2), [3, 4]);
    await list.insert(0, 0);
    await list.remove(2);
    assert.deepEqual(await list.toArray(), [0, 1, 3, 4]);
    await assert.rejects(list.remove(42), { name: 'ValueError' });

    const dict = await manager.dict<string, number>({ a: 1 });
    await dict.update({ b: 2, c: 3 });
    assert.deepEqual(await dict.toObject(), { a: 1, b: 2, c: 3 });
    assert.equal(await dict.get('zz'), null);
    assert.equal(await dict.get('zz', 7), 7);
    await assert.rejects(dict.getItem('zz'), { name: 'KeyError' });
    assert.equal(await dict.pop('a'), 1);
    assert.deepEqual(await dict.popitem(), ['c', 3]);
    assert.equal(await dict.setdefault('d', 4), 4);
    assert.deepEqual(await dict.items(), [['b', 2], ['d', 4]]);

    const ns = await manager.Namespace();
    await ns.set('x', 1);
    assert.equal(await ns.get('x'), 1);
    await assert.rejects(ns.get('y'), { name: 'AttributeError' });

    const value = await manager.Value('i', 7);
    await value.set(8);
    assert.equal(await value.get(), 8);

    const array = await manager.Array('i', [1, 2, 3]);
    await array.set(0, 10);
    assert.deepEqual(await array.toArray(), [10, 2, 3]);
    await assert.rejects(array.set(1, 1.5), { name: 'TypeError' });
    await assert.rejects(manager.Array('x' as 'i', [1]), { name: 'RangeError' });
  });

  it('Semaphore, BoundedSemaphore, Lock and Queue with timeouts', async function () {
    const sem = await manager.Semaphore(2);
    assert.equal(await sem.acquire(), true);
    assert.equal(await sem.acquire(), true);
    assert.equal(await sem.acquire({ timeout: 20 }), false);
    await sem.release(2);
    assert.equal(await sem.getValue(), 2);
    const bounded = await manager.BoundedSemaphore(1);
    await assert.rejects(bounded.release(), { name: 'ProcessError' });
    const lock = await manager.Lock();
    await assert.rejects(lock.release(), { name: 'ProcessError' });
    const queue = await manager.Queue<number>(1);
    await queue.put(1);
    await assert.rejects(queue.put(2, { timeout: 10 }), (e: unknown) => e instanceof mp.Full);
    assert.equal(await queue.full(), true);
    const joinable = await manager.JoinableQueue<number>();
    await joinable.put(1);
    const joined = joinable.join();
    assert.equal(await joinable.get(), 1);
    await joinable.taskDone();
    await withTimeout(joined, 'join()', WAIT_MS);
    await assert.rejects(joinable.taskDone(), { name: 'ProcessError' });
  });

  it('a Pool proxy maps, applies asynchronously and iterates in order', async function () {
    const pool = await manager.Pool(2);
    try {
      assert.deepEqual(await withTimeout(pool.map(t.square, [1, 2, 3]), 'map', WAIT_MS), [1, 4, 9]);
      const result = await pool.applyAsync<number>(t.square, [7]);
      assert.equal(await withTimeout(result.get(), 'get()', WAIT_MS), 49);
      const seen: number[] = [];
      for await (const x of await pool.imap<number>(t.square, [1, 2, 3, 4])) seen.push(x);
      assert.deepEqual(seen, [1, 4, 9, 16]);
    } finally {
      await pool.terminate();
    }
  });

  it('a method that is not exposed is refused by the server', async function () {
    const list = await manager.list();
    await assert.rejects(list._callMethod('constructor'), /not in exposed/);
    await assert.rejects(list._callMethod('__proto__'), /not in exposed/);
  });
});

describe('managers: the server and the program', function () {
  afterEach(async function () {
    await killActiveChildren(JOIN_MS);
  });

  it('a proxy whose server was killed under a wait rejects at once, and so does every later call', async function () {
    const manager = await mp.Manager();
    const event = await manager.Event();
    const waiting = event.wait();
    await manager.numberOfObjects();
    manager.process!.kill();
    const started = Date.now();
    await assert.rejects(withTimeout(waiting, 'the failed wait', WAIT_MS), (e: unknown) => e instanceof mp.RemoteError && /cannot be reached/.test((e as Error).message));
    assert.ok(Date.now() - started < 5000, 'rejected promptly');
    await assert.rejects(event.set(), (e: unknown) => e instanceof mp.RemoteError);
    await manager.shutdown();
  });

  for (const method of methods) {
    it(`the server goes within 2 s of the program that started it being killed (${method})`, async function () {
      const program = spawn(process.execPath, [fixture('manager_program'), method, 'wait'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const serverPid = await new Promise<number>((resolve, reject) => {
        let out = '';
        program.stdout!.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          const match = /server (\d+)/.exec(out);
          if (match) resolve(Number(match[1]));
        });
        program.on('exit', () => reject(new Error(`the program exited: ${out}`)));
      });
      assert.ok(isRunning(serverPid));
      program.kill('SIGKILL');
      await waitUntil(() => !isRunning(serverPid), 2000, 'the server to go');
    });

    it(`Ctrl-C to the program's process group leaves the server to the program (${method})`, async function () {
      const program = spawn(process.execPath, [fixture('manager_program'), method, 'sigint'], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
      let out = '';
      const exited = new Promise<number | null>((resolve) => program.on('exit', (code) => resolve(code)));
      await withTimeout(
        new Promise<void>((resolve) => {
          program.stdout!.setEncoding('utf8').on('data', (d: string) => {
            out += d;
            if (/server \d+/.test(out)) resolve();
          });
        }),
        'the program to start its manager',
        WAIT_MS,
      );
      process.kill(-program.pid!, 'SIGINT');
      assert.equal(await withTimeout(exited, 'the program to end', WAIT_MS), 0);
      assert.match(out, /list \["before","after Ctrl-C"\]/);
      assert.match(out, /server exit 0/);
    });
  }

  it('a remote server drops garbage and silent peers and serves the others', async function () {
    const authkey = Buffer.from('remote secret');
    const server = new mp.SyncManager({ address: ['127.0.0.1', 0], authkey }).getServer();
    const serving = server.serveForever();
    const [host, port] = server.address as [string, number];
    // The server drops them; their resets are expected.
    const garbage = net.connect(port, host).on('error', () => undefined);
    garbage.write(Buffer.alloc(64, 0xff));
    const silent = net.connect(port, host).on('error', () => undefined);
    const client = new mp.SyncManager({ address: [host, port], authkey });
    await withTimeout(client.connect(), 'connect()', WAIT_MS);
    const list = await client.list([1]);
    await list.append(2);
    assert.deepEqual(await list.toArray(), [1, 2]);
    const wrong = new mp.SyncManager({ address: [host, port], authkey: 'wrong' });
    await assert.rejects(wrong.connect(), (e: unknown) => e instanceof mp.AuthenticationError);
    garbage.destroy();
    silent.destroy();
    await client.shutdown();
    await server.shutdown();
    await withTimeout(serving, 'serveForever() to end', WAIT_MS);
  });
});
