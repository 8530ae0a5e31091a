// Ports of CPython's manager tests (Lib/test/_test_multiprocessing.py):
// _TestContainers, TestSyncManagerTypes, _TestMyManager, _TestRemoteManager,
// _TestManagerRestart, TestInitializers.test_manager_initializer and the
// SharedMemoryManager tests, for each start method (the manager's server
// and the children that use its proxies start with it). Translated by
// docs/API.md section 0: proxy methods are async, x[i] is get(i), x[:] is
// toArray(), `with manager:` is `await using`, isinstance is instanceof.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

import * as mp from '../lib/index';
import type { Address } from '../lib/connection/index';
import * as t from './fixtures/manager_cpython_targets';
import { exitCodes, killActiveChildren, runFixture, startIn, tempDir, withTimeout } from './support/helpers';

const JOIN_MS = 60000;
const WAIT_MS = 20000;
const methods: mp.StartMethod[] = ['fork', 'spawn', 'forkserver'];

type ListProxy<T = unknown> = mp.managers.ListProxy<T>;
type DictProxy<K = unknown, V = unknown> = mp.managers.DictProxy<K, V>;

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const chr = (i: number): string => String.fromCharCode(i);

/** `promise`, bounded by WAIT_MS. */
function bounded<T>(promise: Promise<T>, what: string): Promise<T> {
  return withTimeout(promise, what, WAIT_MS);
}

/** A rejection whose error is named `name` and whose cause is the server's RemoteError (docs/API.md section 8). */
async function rejectsNamed(promise: Promise<unknown>, name: string, what: string): Promise<void> {
  await assert.rejects(bounded(promise, what), (error: Error) => {
    assert.equal(error.name, name, `${what}: the error's name`);
    assert.ok(error.cause instanceof mp.RemoteError, `${what}: the cause is a RemoteError carrying the server's stack`);
    return true;
  });
}

let gcFunction: (() => void) | null = null;

/** A full collection, so that dropped proxies give their references back. */
function collectGarbage(): void {
  if (gcFunction === null) {
    v8.setFlagsFromString('--expose-gc');
    gcFunction = vm.runInNewContext('gc') as () => void;
  }
  gcFunction();
}

/** Collects garbage and polls `check` until true; rejects after `ms`. Every wait is bounded. */
async function collectUntil(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    collectGarbage();
    await new Promise((resolve) => setImmediate(resolve));
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The server's count of references on referent `id` (null once it is gone), from debugInfo(). */
async function refcountOf(manager: mp.BaseManager, id: number): Promise<number | null> {
  const info = await bounded(manager.debugInfo(), 'debugInfo');
  const match = new RegExp(`^\\s*${id}: refcount=(\\d+)$`, 'm').exec(info);
  return match === null ? null : Number(match[1]);
}

function segmentExists(name: string): boolean {
  return fs.existsSync(path.join('/dev/shm', name.replace(/^\//, '')));
}

/** The /dev/shm entries of exactly `size` bytes (other tests may make and remove segments meanwhile). */
function segmentsOfSize(size: number): Set<string> {
  const found = new Set<string>();
  for (const name of fs.readdirSync('/dev/shm')) {
    try {
      if (fs.statSync(path.join('/dev/shm', name)).size === size) found.add(name);
    } catch {
      // removed meanwhile
    }
  }
  return found;
}

// ---------------------------------------------------------------------------
// _TestContainers: the manager's server starts with each method.

for (const method of methods) {
  describe(`manager containers (${method}): CPython _TestContainers`, () => {
    const ctx = mp.getContext(method);
    afterEach(() => killActiveChildren(JOIN_MS));

    it('test_list: slices, extend, index, *=, lists of list proxies', async () => {
      await using manager = await ctx.Manager();
      const a = await manager.list<number | string>(range(10));
      assert.deepEqual(await a.toArray(), range(10));

      const b = await manager.list<number>();
      assert.deepEqual(await b.toArray(), []);

      await b.extend(range(5));
      assert.deepEqual(await b.toArray(), range(5));

      assert.equal(await b.get(2), 2);
      assert.deepEqual(await b.slice(2, 10), [2, 3, 4]);

      await b.repeat(2); // b *= 2
      assert.deepEqual(await b.toArray(), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);

      assert.deepEqual([...(await b.toArray()), 5, 6], [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6]); // b + [5, 6]

      assert.deepEqual(await a.toArray(), range(10));

      const e = await manager.list<ListProxy>([a, b]);
      const elements: unknown[][] = [];
      for await (const element of e) {
        assert.ok(element instanceof mp.managers.ListProxy, 'an element of e is a ListProxy');
        elements.push(await element.toArray());
      }
      assert.deepEqual(elements, [range(10), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]]);

      const f = await manager.list<ListProxy>([a]);
      await a.append('hello');
      assert.deepEqual(await (await f.get(0)).toArray(), [...range(10), 'hello']);
    });

    it('test_list_isinstance: a ListProxy with the mutable-sequence methods', async () => {
      await using manager = await ctx.Manager();
      const a = await manager.list();
      assert.ok(a instanceof mp.managers.ListProxy);
      assert.ok(a instanceof mp.BaseProxy);
      // __contains__, __delitem__, __getitem__, __iadd__, __len__, __setitem__ and the named methods.
      for (const name of ['contains', 'delete', 'get', 'extend', 'length', 'set', 'append', 'clear', 'count', 'index', 'insert', 'pop', 'remove', 'reverse', 'sort', 'slice', 'toArray', 'copy']) {
        assert.equal(typeof (a as unknown as Record<string, unknown>)[name], 'function', `ListProxy has ${name}()`);
      }
      assert.equal(typeof a[Symbol.asyncIterator], 'function', 'ListProxy is async iterable (__iter__)');
    });

    it('test_list_iter: iteration, exhaustion, and a change made before the first item is read', async () => {
      await using manager = await ctx.Manager();
      const a = await manager.list(range(10));
      const it = a[Symbol.asyncIterator]();
      const seen: number[] = [];
      for (let r = await bounded(it.next(), 'next'); !r.done; r = await bounded(it.next(), 'next')) seen.push(r.value);
      assert.deepEqual(seen, range(10));
      assert.equal((await bounded(it.next(), 'next')).done, true, 'exhausted');

      const again = a[Symbol.asyncIterator]();
      await a.set(0, 100);
      assert.equal((await bounded(again.next(), 'next')).value, 100);
    });

    it('test_list_proxy_in_list: proxies inside a list proxy are live, and a list may hold itself', async () => {
      await using manager = await ctx.Manager();
      const a = await manager.list<ListProxy<number>>(await Promise.all([0, 1, 2].map(() => manager.list(range(3)))));
      const inner = async (i: number): Promise<ListProxy<number>> => {
        const proxy = await a.get(i);
        assert.ok(proxy instanceof mp.managers.ListProxy, `a[${i}] is a ListProxy`);
        return proxy;
      };
      const contents: number[][] = [];
      for await (const proxy of a) contents.push(await proxy.toArray());
      assert.deepEqual(contents, [[0, 1, 2], [0, 1, 2], [0, 1, 2]]);

      await (await inner(0)).set(-1, 55);
      assert.deepEqual(await (await inner(0)).toArray(), [0, 1, 55]);
      for (const i of [1, 2]) assert.deepEqual(await (await inner(i)).toArray(), [0, 1, 2]);

      assert.equal(await (await inner(1)).pop(), 2);
      assert.equal(await (await inner(1)).length(), 2);
      for (const i of [0, 2]) assert.equal(await (await inner(i)).length(), 3);

      const b = await manager.list<unknown>();
      await b.append(b);
      const self = await b.get(0);
      assert.ok(self instanceof mp.managers.ListProxy);
      assert.equal((self as ListProxy).token.id, b.token.id, 'b[0] is b');
      assert.equal(await (self as ListProxy).length(), 1);
    });

    it('list methods keep Python semantics: insert, remove, index, count, contains, delete, sort and their errors', async () => {
      await using manager = await ctx.Manager();
      const l = await manager.list<number | string>([3, 1, 2]);
      await l.insert(0, 9);
      await l.insert(-1, 7);
      assert.deepEqual(await l.toArray(), [9, 3, 1, 7, 2]);
      assert.equal(await l.index(7), 3);
      assert.equal(await l.count(1), 1);
      assert.equal(await l.contains(9), true);
      assert.equal(await l.contains(99), false);
      await l.remove(9);
      await l.delete(-1);
      assert.deepEqual(await l.toArray(), [3, 1, 7]);
      await l.sort();
      assert.deepEqual(await l.toArray(), [1, 3, 7]);
      await l.sort({ reverse: true });
      assert.deepEqual(await l.toArray(), [7, 3, 1]);
      assert.deepEqual(await l.slice(-2), [3, 1]);
      await rejectsNamed(l.get(3), 'IndexError', 'l[3]');
      await rejectsNamed(l.set(-4, 0), 'IndexError', 'l[-4] = 0');
      await rejectsNamed(l.index('absent'), 'ValueError', "l.index('absent')");
      await rejectsNamed(l.remove('absent'), 'ValueError', "l.remove('absent')");
      await l.clear();
      await rejectsNamed(l.pop(), 'IndexError', 'pop from an empty list');
      assert.deepEqual(await l.toArray(), []);
    });

    it('test_dict: keys, values, items and copy', async () => {
      await using manager = await ctx.Manager();
      const d = await manager.dict<number, string>();
      const indices = range(5).map((i) => i + 65);
      for (const i of indices) await d.set(i, chr(i));
      assert.deepEqual(await d.copy(), new Map(indices.map((i) => [i, chr(i)])));
      assert.deepEqual((await d.keys()).sort((x, y) => x - y), indices);
      assert.deepEqual((await d.values()).sort(), indices.map(chr));
      assert.deepEqual((await d.items()).sort((x, y) => x[0] - y[0]), indices.map((i) => [i, chr(i)]));
    });

    it('test_dict_isinstance: a DictProxy with the mutable-mapping methods', async () => {
      await using manager = await ctx.Manager();
      const d = await manager.dict();
      assert.ok(d instanceof mp.managers.DictProxy);
      assert.ok(d instanceof mp.BaseProxy);
      // __contains__, __delitem__, __getitem__, __len__, __setitem__ and the named methods.
      for (const name of ['has', 'delete', 'getItem', 'length', 'set', 'clear', 'get', 'items', 'keys', 'pop', 'popitem', 'setdefault', 'update', 'values', 'copy', 'toObject', 'toMap']) {
        assert.equal(typeof (d as unknown as Record<string, unknown>)[name], 'function', `DictProxy has ${name}()`);
      }
      assert.equal(await d.has('absent'), false);
      await rejectsNamed(d.getItem('absent'), 'KeyError', "d['absent']");
      assert.equal(await d.get('absent'), null);
      assert.equal(await d.get('absent', 'fallback'), 'fallback');
    });

    it('test_dict_iter: iterating a DictProxy gives its keys, in insertion order, once', async () => {
      await using manager = await ctx.Manager();
      const d = await manager.dict<number, string>();
      const indices = range(5).map((i) => i + 65);
      for (const i of indices) await d.set(i, chr(i));
      const iterable = d as unknown as AsyncIterable<number>;
      assert.equal(typeof iterable[Symbol.asyncIterator], 'function', 'DictProxy is async iterable, as ListProxy is (Python: iter(d))');
      const it = iterable[Symbol.asyncIterator]();
      const keys: number[] = [];
      for (let r = await bounded(it.next(), 'next'); !r.done; r = await bounded(it.next(), 'next')) keys.push(r.value);
      assert.deepEqual(keys, indices);
      assert.equal((await bounded(it.next(), 'next')).done, true, 'exhausted');
    });

    it('test_dict_proxy_nested: dicts in dicts and lists stay live, and keep their referents alive', async function () {
      this.timeout(120000);
      await using manager = await ctx.Manager();
      let pets: DictProxy<string, number> | null = await manager.dict({ ferrets: 2, hamsters: 4 });
      let supplies: DictProxy<string, number> | null = await manager.dict({ water: 10, feed: 3 });
      const d = await manager.dict<string, DictProxy<string, number>>({ pets, supplies });
      const nested = async (key: string): Promise<DictProxy<string, number>> => {
        const proxy = await d.getItem(key);
        assert.ok(proxy instanceof mp.managers.DictProxy, `d['${key}'] is a DictProxy`);
        return proxy;
      };

      assert.equal(await supplies.getItem('water'), 10);
      assert.equal(await (await nested('supplies')).getItem('water'), 10);

      await (await nested('supplies')).set('blankets', 5);
      assert.equal(await supplies.getItem('blankets'), 5);
      assert.equal(await (await nested('supplies')).getItem('blankets'), 5);

      await (await nested('supplies')).set('water', 7);
      assert.equal(await supplies.getItem('water'), 7);
      assert.equal(await (await nested('supplies')).getItem('water'), 7);

      // del pets; del supplies: the proxies nested in d alone keep the dicts alive.
      const ids = [pets.token.id, supplies.token.id];
      pets = null;
      supplies = null;
      await collectUntil(
        async () => (await Promise.all(ids.map((id) => refcountOf(manager, id)))).every((count) => count === 1),
        WAIT_MS,
        'the dropped proxies to give back their references (only the nested ones left)',
      );
      assert.equal(await (await nested('pets')).getItem('ferrets'), 2);
      await (await nested('supplies')).set('blankets', 11);
      assert.equal(await (await nested('supplies')).getItem('blankets'), 11);

      const pets2 = await nested('pets');
      const supplies2 = await nested('supplies');
      await supplies2.set('water', 7);
      assert.equal(await supplies2.getItem('water'), 7);
      assert.equal(await (await nested('supplies')).getItem('water'), 7);

      await d.clear();
      assert.equal(await d.length(), 0);
      assert.equal(await supplies2.getItem('water'), 7);
      assert.equal(await pets2.getItem('hamsters'), 4);

      const l = await manager.list([pets2, supplies2]);
      const first = async (): Promise<DictProxy<string, number>> => (await l.get(0)) as DictProxy<string, number>;
      await (await first()).set('marmots', 1);
      assert.equal(await pets2.getItem('marmots'), 1);
      assert.equal(await (await first()).getItem('marmots'), 1);

      const outer = await manager.list<unknown>([[88, 99], l]);
      const head = await outer.get(0);
      assert.ok(Array.isArray(head) && !(head instanceof mp.BaseProxy), 'outer[0] is a plain array, not a ListProxy');
      assert.deepEqual(head, [88, 99]);
      const last = (await outer.get(-1)) as ListProxy<DictProxy<string, number>>;
      assert.ok(last instanceof mp.managers.ListProxy);
      assert.equal(await (await last.get(-1)).getItem('feed'), 3);
    });

    it('test_nested_queue: a queue inside a list and inside a dict', async () => {
      await using manager = await ctx.Manager();
      const a = await manager.list<mp.managers.QueueProxy<number>>();
      await a.append(await manager.Queue());
      const q0 = await a.get(0);
      assert.ok(q0 instanceof mp.managers.QueueProxy);
      await q0.put(123);
      assert.equal(await bounded((await a.get(0)).get(), 'get'), 123);

      const b = await manager.dict<number, mp.managers.QueueProxy<number>>();
      await b.set(0, await manager.Queue());
      await (await b.getItem(0)).put(456);
      assert.equal(await bounded((await b.getItem(0)).get(), 'get'), 456);
    });

    it('test_namespace: attributes set, read, deleted; a missing one is an AttributeError', async () => {
      await using manager = await ctx.Manager();
      const n = await manager.Namespace();
      assert.ok(n instanceof mp.managers.NamespaceProxy);
      await n.set('name', 'Bob');
      await n.set('job', 'Builder');
      assert.deepEqual([await n.get('name'), await n.get('job')], ['Bob', 'Builder']);
      await n.delete('job');
      assert.deepEqual(await n.toObject(), { name: 'Bob' }); // str(n) == "Namespace(name='Bob')"
      assert.equal(await n.has('name'), true);
      assert.equal(await n.has('job'), false);
      await rejectsNamed(n.get('job'), 'AttributeError', 'n.job');
    });
  });
}

// ---------------------------------------------------------------------------
// TestSyncManagerTypes (the container types): a child of each method uses
// the proxies the parent made.

for (const method of methods) {
  describe(`manager containers used by a ${method} child: CPython TestSyncManagerTypes`, () => {
    const ctx = mp.getContext(method);
    afterEach(() => killActiveChildren(JOIN_MS));

    async function runWorker(target: (...args: never[]) => unknown, ...args: unknown[]): Promise<void> {
      const child = startIn(ctx, target, ...args);
      assert.deepEqual(await exitCodes([child], JOIN_MS), [0], 'the worker passed its checks');
    }

    it('test_list', async () => {
      await using manager = await ctx.Manager();
      const o = await manager.list<number>();
      await o.append(5);
      await runWorker(t.checkListInChild, o);
      assert.equal(await o.length(), 0);
    });

    it('test_dict', async () => {
      await using manager = await ctx.Manager();
      const o = await manager.dict<string, number>();
      await o.set('foo', 5);
      await runWorker(t.checkDictInChild, o);
      assert.equal(await o.length(), 0);
    });

    it('test_value', async () => {
      await using manager = await ctx.Manager();
      const o = await manager.Value('i', 1);
      assert.ok(o instanceof mp.managers.ValueProxy);
      await runWorker(t.checkValueInChild, o);
      assert.equal(await o.get(), 2);
    });

    it('test_array', async () => {
      await using manager = await ctx.Manager();
      const o = await manager.Array('i', [0, 1]);
      assert.ok(o instanceof mp.managers.ArrayProxy);
      await runWorker(t.checkArrayInChild, o);
    });

    it('test_namespace', async () => {
      await using manager = await ctx.Manager();
      const o = await manager.Namespace();
      await o.set('x', 0);
      await o.set('y', 1);
      await runWorker(t.checkNamespaceInChild, o);
    });

    it('a dict of lists (test_dict_proxy_nested) changed by a child through the nested proxies', async () => {
      await using manager = await ctx.Manager();
      const d = await manager.dict<string, ListProxy<string>>({ a: await manager.list(['a0']), b: await manager.list(['b0']) });
      await runWorker(t.appendThroughNestedInChild, d, 'b', 'from the child');
      assert.deepEqual(await (await d.getItem('a')).toArray(), ['a0']);
      assert.deepEqual(await (await d.getItem('b')).toArray(), ['b0', 'from the child']);
    });

    it('a queue inside a list (test_nested_queue) fed by a child', async () => {
      await using manager = await ctx.Manager();
      const a = await manager.list<mp.managers.QueueProxy<number>>();
      await a.append(await manager.Queue());
      await runWorker(t.putThroughNestedQueueInChild, a, 789);
      assert.equal(await bounded((await a.get(0)).get(), 'get'), 789);
    });
  });
}

// ---------------------------------------------------------------------------
// _TestMyManager: a BaseManager subclass with registered types.

for (const method of methods) {
  describe(`custom managers (${method}): CPython _TestMyManager`, () => {
    const ctx = mp.getContext(method);
    afterEach(() => killActiveChildren(JOIN_MS));

    /** Python's common(), but for the call of a non-exposed method (its own test below). */
    async function common(manager: t.MyManager): Promise<void> {
      const foo = await manager.Foo();
      const bar = await manager.Bar();
      const baz = await manager.baz();

      const has = (proxy: object): string[] => ['f', 'g', '_h'].filter((name) => typeof (proxy as Record<string, unknown>)[name] === 'function');
      assert.deepEqual(has(foo), ['f', 'g'], 'Foo exposes its public methods: no _h');
      assert.deepEqual(has(bar), ['f', '_h'], 'Bar exposes what register() named');

      assert.equal(await foo.f(), 'f()');
      await assert.rejects(bounded(foo.g(), 'foo.g()'), (error: Error) => {
        assert.ok(error instanceof t.ValueError, 'the referent\'s own error class reaches the caller');
        assert.equal(error.message, 'g() always fails');
        assert.ok(error.cause instanceof mp.RemoteError);
        return true;
      });
      assert.equal(await foo._callMethod('f'), 'f()');

      assert.equal(await bar.f(), 'f()');
      assert.equal(await bar._h(), '_h()');
      assert.equal(await bar._callMethod('f'), 'f()');
      assert.equal(await bar._callMethod('_h'), '_h()');

      assert.ok(baz instanceof t.GeneratorProxy, 'baz() gives the registered proxytype');
      const squares: number[] = [];
      for await (const x of baz) squares.push(x);
      assert.deepEqual(squares, range(10).map((i) => i * i));
    }

    it('test_mymanager: start, use, shutdown; the server exits with 0', async () => {
      const manager = new t.MyManager({ ctx: method });
      await manager.start();
      try {
        await common(manager);
      } finally {
        await manager.shutdown();
      }
      assert.equal(manager.process?.exitCode, 0);
    });

    it('test_mymanager_context: `await using` a manager started in the declaration', async () => {
      let process: mp.Process | null = null;
      {
        await using manager = await new t.MyManager({ ctx: method }).start();
        process = manager.process;
        await common(manager);
      }
      assert.equal(process?.exitCode, 0);
    });

    it('test_mymanager_context_prestarted: `await using` a manager started before', async () => {
      const manager = new t.MyManager({ ctx: method });
      await manager.start();
      {
        await using held = manager;
        await common(held);
      }
      assert.equal(manager.process?.exitCode, 0);
    });

    it('test_mymanager (foo._callmethod("_h")): calling a method that is not exposed rejects with RemoteError', async () => {
      await using manager = await new t.MyManager({ ctx: method }).start();
      const foo = await manager.Foo();
      await assert.rejects(bounded(foo._callMethod('_h'), "foo._callMethod('_h')"), (error: Error) => {
        assert.ok(error instanceof mp.RemoteError, `a RemoteError, as Python's; got ${error.constructor.name} named ${error.name}: ${error.message}`);
        return true;
      });
      assert.equal(await foo.f(), 'f()', 'the proxy still works');
      const bar = await manager.Bar();
      await assert.rejects(bounded(bar._callMethod('g'), "bar._callMethod('g')"), (error: Error) => {
        assert.ok(error instanceof mp.RemoteError, `a RemoteError: g is not in Bar's exposed list; got ${error.constructor.name}: ${error.message}`);
        return true;
      });
    });

    it("a proxytype's exposed list restricts the server's methods; the library's IteratorProxy serves generators", async () => {
      await using manager = await new t.MyManager({ ctx: method }).start();
      const baz = await manager.baz();
      assert.deepEqual([...baz.exposed], ['next']);
      await assert.rejects(bounded(baz._callMethod('return'), 'baz.return()'), 'return is not in GeneratorProxy.exposed');
      assert.deepEqual(await baz.next(), { value: 0, done: false });

      const lib = await manager.libBaz();
      assert.ok(lib instanceof mp.managers.IteratorProxy);
      const squares: number[] = [];
      for await (const x of lib) squares.push(x);
      assert.deepEqual(squares, range(10).map((i) => i * i));
    });

    it('methodToTypeid: a method that makes a referent gives a proxy of it, usable from a child', async () => {
      await using manager = await new t.MyManager({ ctx: method }).start();
      const factory = await manager.CounterFactory();
      assert.equal(await factory.describe(), 'a factory of counters');
      const counter = await factory.makeCounter(5);
      assert.ok(counter instanceof mp.BaseProxy, 'makeCounter() gives a proxy');
      assert.equal(counter.token.typeid, 'Counter');
      assert.equal(await counter.increment(), 6);
      const other = await factory.makeCounter(100);
      assert.notEqual(other.token.id, counter.token.id, 'each call makes a new referent');

      const child = startIn(ctx, t.incrementInChild, counter, 4);
      assert.deepEqual(await exitCodes([child], JOIN_MS), [0]);
      assert.equal(await counter.value(), 10);
      assert.equal(await other.value(), 100);
    });

    it('a registered type\'s proxy crosses to a child and keeps working there', async () => {
      await using manager = await new t.MyManager({ ctx: method }).start();
      const foo = await manager.Foo();
      const [reader, writer] = ctx.Pipe(false);
      const child = startIn(ctx, t.callFooInChild, foo, writer);
      writer.close();
      assert.equal(await bounded(reader.recv(), 'the child\'s f()'), 'f()');
      assert.deepEqual(await exitCodes([child], JOIN_MS), [0]);
      reader.close();
    });
  });
}

// ---------------------------------------------------------------------------
// _TestRemoteManager: servers on TCP and Unix sockets, clients that connect().

for (const method of methods) {
  describe(`remote managers (${method}): CPython _TestRemoteManager`, () => {
    const ctx = mp.getContext(method);
    afterEach(() => killActiveChildren(JOIN_MS));

    it('test_remote: a started QueueManager on TCP; a child puts through QueueManager2, the parent gets', async () => {
      const authkey = randomBytes(32);
      await using manager = await new t.QueueManager({ address: ['127.0.0.1', 0], authkey, ctx: method }).start();
      const address = manager.address as [string, number];
      assert.equal(address[0], '127.0.0.1');
      assert.ok(address[1] > 0, 'port 0 gives the real port');

      const child = startIn(ctx, t.putter, address, authkey, t.REMOTE_VALUES);

      await using manager2 = await new t.QueueManager2({ address, authkey }).connect();
      const queue = await manager2.getQueue();
      assert.deepEqual(await bounded(queue.get(), 'queue.get()'), t.REMOTE_VALUES);
      assert.deepEqual(await exitCodes([child], JOIN_MS), [0]);

      // Python: xmlrpclib cannot carry a function. Here an inline closure cannot cross; the link survives.
      await assert.rejects(bounded(queue.put(() => 42), 'put(closure)'), mp.SerializationError);
      await queue.put('still working');
      assert.equal(await bounded(queue.get(), 'queue.get()'), 'still working');
    });

    async function serveInChild(address: Address, authkey: Buffer): Promise<{ child: mp.Process; control: mp.Connection; address: Address }> {
      const [control, theirs] = ctx.Pipe();
      const child = startIn(ctx, t.serveQueueManager, theirs, address, authkey);
      theirs.close();
      const bound = (await bounded(control.recv(), "the server's address")) as Address;
      return { child, control, address: bound };
    }

    async function stopServer(child: mp.Process, control: mp.Connection): Promise<void> {
      control.send('stop');
      assert.deepEqual(await exitCodes([child], JOIN_MS), [0], 'serveForever() returned after shutdown');
      control.close();
    }

    it('getServer().serveForever() in a child over TCP with an authkey: clients connect from here and from a child', async () => {
      const authkey = randomBytes(32);
      const { child, control, address } = await serveInChild(['127.0.0.1', 0], authkey);
      try {
        assert.ok(Array.isArray(address) && address[0] === '127.0.0.1' && address[1] > 0, `a TCP address: ${JSON.stringify(address)}`);
        {
          await using client = await new t.QueueManager2({ address, authkey }).connect();
          const queue = await client.getQueue();
          await queue.put('here');
          assert.equal(await bounded(queue.get(), 'get'), 'here');
          const putterChild = startIn(ctx, t.putter, address, authkey, 'from a child');
          assert.equal(await bounded(queue.get(), 'get'), 'from a child');
          assert.deepEqual(await exitCodes([putterChild], JOIN_MS), [0]);
        }
      } finally {
        await stopServer(child, control);
      }
    });

    it('getServer().serveForever() in a child over TCP: a wrong authkey rejects with AuthenticationError; the server goes on', async () => {
      const authkey = randomBytes(32);
      const { child, control, address } = await serveInChild(['127.0.0.1', 0], authkey);
      try {
        const intruder = new t.QueueManager2({ address, authkey: randomBytes(32) });
        await assert.rejects(bounded(intruder.connect(), 'connect() with a wrong authkey'), (error: Error) => {
          assert.ok(error instanceof mp.AuthenticationError, `an AuthenticationError; got ${error.constructor.name}: ${error.message}`);
          return true;
        });
        await intruder.shutdown();
        await using client = await new t.QueueManager2({ address, authkey }).connect();
        const queue = await client.getQueue();
        await queue.put(1);
        assert.equal(await bounded(queue.get(), 'get'), 1);
      } finally {
        await stopServer(child, control);
      }
    });

    it('getServer().serveForever() in a child over a Unix socket path', async () => {
      const dir = tempDir('mp-mgr-');
      const socketPath = path.join(dir, 'manager.sock');
      const authkey = randomBytes(32);
      try {
        const { child, control, address } = await serveInChild(socketPath, authkey);
        try {
          assert.equal(address, socketPath);
          await using client = await new t.QueueManager2({ address, authkey }).connect();
          const queue = await client.getQueue();
          const putterChild = startIn(ctx, t.putter, address, authkey, t.REMOTE_VALUES);
          assert.deepEqual(await bounded(queue.get(), 'get'), t.REMOTE_VALUES);
          assert.deepEqual(await exitCodes([putterChild], JOIN_MS), [0]);
          await assert.rejects(bounded(new t.QueueManager2({ address, authkey: 'not the key' }).connect(), 'wrong authkey'));
        } finally {
          await stopServer(child, control);
        }
        assert.equal(fs.existsSync(socketPath), false, 'the socket file is removed when the server stops');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

// ---------------------------------------------------------------------------
// _TestManagerRestart: a manager on a fixed address, shut down and started again.

for (const method of methods) {
  describe(`manager restart (${method}): CPython _TestManagerRestart`, () => {
    const ctx = mp.getContext(method);
    afterEach(() => killActiveChildren(JOIN_MS));

    it('test_rapid_restart: on a fixed TCP address', async () => {
      const authkey = randomBytes(32);
      const manager = new t.QueueManager({ address: ['127.0.0.1', 0], authkey, ctx: method });
      const server = manager.getServer();
      const address = server.address;
      await server.shutdown(); // Python: srvr.listener.close()
      await manager.start();
      try {
        assert.deepEqual(manager.address, address, 'the manager starts on the address getServer() bound');
        const child = startIn(ctx, t.putter, address, authkey, 'hello world');
        assert.deepEqual(await exitCodes([child], JOIN_MS), [0]);
        const queue = await manager.getQueue();
        assert.equal(await bounded(queue.get(), 'get'), 'hello world');
      } finally {
        await manager.shutdown();
      }
      assert.equal(manager.process?.exitCode, 0);

      await using again = await new t.QueueManager({ address, authkey, ctx: method }).start();
      assert.deepEqual(again.address, address);
      const queue = await again.getQueue();
      await queue.put('after the restart');
      assert.equal(await bounded(queue.get(), 'get'), 'after the restart');
    });

    it('restart on a fixed Unix socket path', async () => {
      const dir = tempDir('mp-mgr-');
      const address = path.join(dir, 'restart.sock');
      try {
        {
          await using first = await mp.Manager({ address, ctx: method });
          const l = await first.list([1]);
          assert.deepEqual(await l.toArray(), [1]);
        }
        assert.equal(fs.existsSync(address), false, 'the socket file went with the first server');
        await using second = await mp.Manager({ address, ctx: method });
        const l = await second.list([2]);
        assert.deepEqual(await l.toArray(), [2]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('a proxy of a manager that was shut down rejects (its server is gone)', async () => {
      const manager = await ctx.Manager();
      let l: ListProxy<number>;
      try {
        l = await manager.list([1]);
        assert.deepEqual(await l.toArray(), [1]);
      } finally {
        await manager.shutdown();
      }
      await assert.rejects(bounded(l.toArray(), 'a call after shutdown'));
      await assert.rejects(bounded(manager.list(), 'create after shutdown'), mp.ProcessError);
    });

    it("after a restart on the same address, a proxy of the old server does not reach the new server's objects", async () => {
      const authkey = randomBytes(32);
      const first = new mp.SyncManager({ address: ['127.0.0.1', 0], authkey, ctx: method });
      await first.start();
      let stale: ListProxy<string>;
      let address: Address;
      try {
        stale = await first.list(['old']);
        address = first.address as Address;
      } finally {
        await first.shutdown();
      }
      await using second = await new mp.SyncManager({ address, authkey, ctx: method }).start();
      const fresh = await second.list(['new']);
      let reached: unknown = 'rejected';
      try {
        reached = await bounded(stale.toArray(), 'a call on the stale proxy');
      } catch {
        // Python: the old connection is gone, the call raises.
      }
      assert.equal(reached, 'rejected', `the stale proxy must not act on the new server; it read ${JSON.stringify(reached)}`);
      assert.deepEqual(await fresh.toArray(), ['new']);
    });

    it("after a restart on the same address, collecting a proxy of the old server leaves the new server's objects alone", async () => {
      const authkey = randomBytes(32);
      const first = new mp.SyncManager({ address: ['127.0.0.1', 0], authkey, ctx: method });
      await first.start();
      let stale: ListProxy<string> | null;
      let address: Address;
      try {
        stale = await first.list(['old']);
        address = first.address as Address;
      } finally {
        await first.shutdown();
      }
      await using second = await new mp.SyncManager({ address, authkey, ctx: method }).start();
      const fresh = await second.list(['new']);
      let collected = false;
      const watch = new FinalizationRegistry(() => (collected = true));
      watch.register(stale, 'stale');
      stale = null;
      await collectUntil(() => collected, WAIT_MS, 'the stale proxy to be collected');
      // Its finalizer ran in the same collection; give its message a turn to go out before ours.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(await bounded(fresh.toArray(), "fresh's toArray()"), ['new'], "the new server's list is still there");
    });
  });
}

// ---------------------------------------------------------------------------
// TestInitializers.test_manager_initializer.

for (const method of methods) {
  describe(`manager initializer (${method}): CPython TestInitializers`, () => {
    const ctx = mp.getContext(method);
    afterEach(() => killActiveChildren(JOIN_MS));

    it('test_manager_initializer: the initializer runs in the server with its arguments; a non-function is a TypeError', async () => {
      await using holder = await ctx.Manager();
      const ns = await holder.Namespace();
      await ns.set('test', 0);
      const m = new mp.SyncManager({ ctx: method });
      await assert.rejects(m.start(1 as unknown as () => void), TypeError);
      await m.start(t.bumpNamespace, [ns]);
      try {
        assert.equal(await ns.get('test'), 1);
      } finally {
        await m.shutdown();
      }
      assert.equal(m.process?.exitCode, 0);
    });
  });
}

// ---------------------------------------------------------------------------
// SharedMemoryManager (_TestSharedMemory's manager tests).

for (const method of methods) {
  describe(`SharedMemoryManager (${method}): CPython _TestSharedMemory`, () => {
    const ctx = mp.getContext(method);
    afterEach(() => killActiveChildren(JOIN_MS));

    it('test_shared_memory_SharedMemoryManager_basics', async () => {
      const smm1 = new mp.SharedMemoryManager({ ctx: method });
      const before = segmentsOfSize(9);
      await assert.rejects(smm1.SharedMemory(9), 'fails while the server is not started');
      const left = [...segmentsOfSize(9)].filter((name) => !before.has(name));
      assert.deepEqual(left, [], 'the refused segment is not left behind');
      await smm1.start();
      let heldName: string;
      let listNames: string[];
      try {
        const lol = [];
        for (let i = 5; i < 10; i++) lol.push(await smm1.ShareableList(range(i)));
        const lom = [];
        for (let j = 32; j < 128; j += 16) lom.push(await smm1.SharedMemory(j));
        const doppelgangerList0 = new mp.ShareableList(null, { name: lol[0].shm.name });
        assert.equal(doppelgangerList0.length, 5);
        assert.deepEqual(doppelgangerList0.toArray(), range(5));
        const doppelgangerShm0 = new mp.SharedMemory({ name: lom[0].name });
        assert.ok(doppelgangerShm0.buf.length >= 32);
        const listed = await smm1.listSegments();
        for (const name of [...lol.map((sl) => sl.shm.name), ...lom.map((shm) => shm.name)]) {
          assert.ok(listed.includes(name), `listSegments() names ${name}`);
        }
        heldName = lom[0].name;
        listNames = lol.map((sl) => sl.shm.name);
        for (const shm of [doppelgangerList0.shm, doppelgangerShm0, ...lol.map((sl) => sl.shm), ...lom]) shm.close();
      } finally {
        await smm1.shutdown();
      }
      assert.throws(() => new mp.SharedMemory({ name: heldName }), { code: 'ENOENT' });
      assert.equal(segmentExists(heldName), false);
      for (const name of listNames) assert.equal(segmentExists(name), false, `${name} is gone`);

      {
        await using smm2 = await new mp.SharedMemoryManager({ ctx: method }).start();
        const sl = await smm2.ShareableList('howdy');
        assert.deepEqual(sl.toArray(), ['h', 'o', 'w', 'd', 'y']);
        const shm = await smm2.SharedMemory(128);
        heldName = sl.shm.name;
        assert.equal(segmentExists(shm.name), true);
        sl.shm.close();
        shm.close();
      }
      assert.throws(() => new mp.ShareableList(null, { name: heldName }), { code: 'ENOENT' });
    });

    it("segments made through the manager are used from a child (by handle and by name), and removed at shutdown", async () => {
      await using smm = await new mp.SharedMemoryManager({ ctx: method }).start();
      const shm = await smm.SharedMemory(512);
      const sl = await smm.ShareableList(['0123456789', 0]);
      const child = startIn(ctx, t.writeSharedInChild, shm, sl, 'howdy');
      assert.deepEqual(await exitCodes([child], JOIN_MS), [0]);
      assert.equal(shm.buf.subarray(0, 5).toString(), 'howdy');
      assert.deepEqual(sl.toArray(), ['howdy', 4242]);

      const byName = startIn(ctx, t.attachAndWriteInChild, shm.name, 'HELLO');
      assert.deepEqual(await exitCodes([byName], JOIN_MS), [0]);
      assert.equal(shm.buf.subarray(0, 5).toString(), 'HELLO');
      const names = [shm.name, sl.shm.name];
      shm.close();
      sl.shm.close();
      await smm.shutdown();
      for (const name of names) assert.equal(segmentExists(name), false, `${name} is removed at shutdown`);
    });

    it('a child that connect()s to the manager makes a segment the server owns and removes at shutdown', async () => {
      await using smm = await new mp.SharedMemoryManager({ ctx: method }).start();
      const [reader, writer] = ctx.Pipe(false);
      const child = startIn(ctx, t.makeSegmentThroughManagerInChild, smm.address, writer, 'from the child');
      writer.close();
      const name = (await bounded(reader.recv(), "the child's segment name")) as string;
      reader.close();
      assert.deepEqual(await exitCodes([child], JOIN_MS), [0]);
      assert.ok((await smm.listSegments()).includes(name), 'the server tracks it');
      const shm = new mp.SharedMemory({ name });
      assert.equal(shm.buf.subarray(0, 14).toString(), 'from the child', 'it outlived the child');
      shm.close();
      await smm.shutdown();
      assert.equal(segmentExists(name), false, 'removed at shutdown');
    });

    it('test_shared_memory_SharedMemoryServer_ignores_sigint', async () => {
      await using smm = await new mp.SharedMemoryManager({ ctx: method }).start();
      const sl = await smm.ShareableList(range(10));
      process.kill(smm.process!.pid!, 'SIGINT');
      const sl2 = await bounded(smm.ShareableList(range(10)), 'a ShareableList after SIGINT');
      assert.deepEqual(sl2.toArray(), range(10));
      assert.equal(smm.process!.isAlive(), true);
      sl.shm.close();
      sl2.shm.close();
    });
  });
}

describe('SharedMemoryManager: CPython test_shared_memory_SharedMemoryManager_reuses_resource_tracker', () => {
  it('a program that starts one, makes a ShareableList and shuts it down leaves nothing for the resource tracker to report', async () => {
    const result = await runFixture('manager_cpython_targets', ['smm-reuses-resource-tracker'], { timeoutMs: JOIN_MS });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '', 'nothing on stderr (no leak warning from the tracker)');
    const name = result.stdout.trim();
    assert.ok(name.length > 0, 'the program printed the segment name');
    assert.equal(segmentExists(name), false);
  });
});
