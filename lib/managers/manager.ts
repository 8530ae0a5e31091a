// Managers (docs/API.md section 8; Python's managers.BaseManager and
// SyncManager): a server process holding objects that other processes
// use through proxies.
import { Pipe } from '../connection/connection';
import { arbitraryUnixAddress, type Address } from '../connection/listener';
import type { Context } from '../context';
import { ProcessError } from '../errors';
import { currentProcess, type Process, type StartMethod } from '../process/process';
import { atExit } from '../process/exit';
import { register as registerReducer } from '../serialize/reduction';
import { checkTimeout, debug, info } from '../util';
import { registerAtFork } from '../process/at_fork';
import { SYNC_MANAGER_TYPEIDS } from './builtin_types';
import { Link } from './link';
import { Op } from './protocol';
// Loaded for its effect too: it registers the proxy type of each of SyncManager's typeids.
import './proxies';
import type {
  AcquirerProxy,
  ArrayProxy,
  BarrierProxy,
  ConditionProxy,
  DictProxy,
  EventProxy,
  JoinableQueueProxy,
  ListProxy,
  LockProxy,
  NamespaceProxy,
  PoolProxy,
  QueueProxy,
  SemaphoreProxy,
  ValueProxy,
} from './proxies';
import { autoProxyType, BaseProxy, proxyFor, proxyTypeOf, setProxyType, type ProxyClass } from './proxy';
import type { Server, ServerTypeSpec } from './server';
import { makeServer, runManagerServer, type SentTypeSpec, type ServerKind } from './server_main';
import type { BarrierOptions } from './sync_referents';
import type { PoolOptions } from '../pool/index';

/**
 * What {@link BaseManager.register} takes.
 *
 * @category Managers
 * @example
 * ```ts
 * const options: mp.RegisterOptions = { exposed: ['increment', 'value'], proxytype: CounterProxy };
 * MyManager.register('Counter', Counter, options); // CounterProxy: a subclass of mp.BaseProxy
 * ```
 */
export interface RegisterOptions {
  /** The methods proxies may call (default: the referent's public methods, or the proxytype's `exposed`). */
  exposed?: readonly string[] | null;
  /** Methods whose results are new referents, proxied as the typeid named. */
  methodToTypeid?: Readonly<Record<string, string>> | null;
  /** The proxy class (default: an AutoProxy with a method per exposed name). */
  proxytype?: ProxyClass | null;
  /** Whether the manager gets a method named `typeid` that makes one (default true). */
  createMethod?: boolean;
}

/**
 * @inline What makes a referent in the server: a class (constructed with
 * `new`) or a function.
 */
export type ReferentMaker = ((...args: never[]) => unknown) | (abstract new (...args: never[]) => object);

interface TypeEntry {
  typeid: string;
  callable: ReferentMaker | null;
  exposed: readonly string[] | null;
  methodToTypeid: Readonly<Record<string, string>> | null;
  proxytype: ProxyClass | null;
  builtin: boolean;
}

/**
 * What a manager takes: `new BaseManager(options)`, {@link Manager},
 * `new SyncManager(options)`, `new SharedMemoryManager(options)`.
 *
 * @category Managers
 * @example
 * ```ts
 * const options: mp.ManagerOptions = { address: ['127.0.0.1', 50000], authkey: 'secret', ctx: 'spawn', shutdownTimeout: 5000 };
 * await using manager = await mp.Manager(options);
 * // another program: await new mp.SyncManager({ address: ['127.0.0.1', 50000], authkey: 'secret' }).connect()
 * ```
 */
export interface ManagerOptions {
  /** Where the server listens: a socket path (AF_UNIX) or [host, port] (AF_INET). Default: a fresh private path. */
  address?: Address | null;
  /** Default: currentProcess().authkey, which the process's children share. */
  authkey?: Uint8Array | string | null;
  /** The context (or start method) the server process starts with. */
  ctx?: Context | StartMethod | null;
  /** How long shutdown() waits for the server to exit before terminating it, in ms (default 1000). */
  shutdownTimeout?: number;
}

type State = 'initial' | 'started' | 'connected' | 'shutdown';

const started = new Set<BaseManager>();
let exitHookInstalled = false;

function authkeyOf(authkey: unknown): Buffer {
  if (authkey === undefined || authkey === null) return Buffer.from(currentProcess().authkey);
  if (typeof authkey === 'string') return Buffer.from(authkey, 'utf8');
  if (authkey instanceof Uint8Array) return Buffer.from(authkey);
  throw new TypeError('The "options.authkey" property must be a Uint8Array, a string or null');
}

function checkAddress(address: unknown): Address | null {
  if (address === undefined || address === null) return null;
  if (typeof address === 'string' && address !== '') return address;
  if (Array.isArray(address) && address.length === 2 && typeof address[0] === 'string' && Number.isInteger(address[1])) {
    return [address[0], address[1] as number];
  }
  throw new TypeError('The "options.address" property must be a socket path or [host, port]');
}

/**
 * A manager whose types you register (Python's `BaseManager`): subclass it,
 * {@link BaseManager.register | register()} a typeid with the class or
 * function that makes its referent, and `start()` a server process (or
 * `connect()` to one started elsewhere, or run one in this process with
 * `getServer()`). Each registered typeid becomes a method of the manager
 * that makes a referent in the server and resolves with its proxy, whose
 * methods call the referent's. A started server stops with `shutdown()`,
 * `await using`, or when this process ends. A manager passed to a child
 * arrives connected to the same server.
 *
 * @category Managers
 * @example
 * ```ts
 * // counter.ts: the referent's class, exported (a 'spawn' or 'forkserver' server imports it)
 * export class Counter {
 *   #n = 0;
 *   increment(): number {
 *     return ++this.#n;
 *   }
 * }
 * // main.ts
 * class MyManager extends mp.BaseManager {
 *   declare Counter: () => Promise<mp.BaseProxy & { increment(): Promise<number> }>;
 * }
 * MyManager.register('Counter', Counter);
 * await using manager = await new MyManager().start();
 * const counter = await manager.Counter();
 * console.log(await counter.increment()); // 1
 * ```
 */
export class BaseManager {
  /** @internal This class's types (each subclass has its own, starting from its parent's, as in Python). */
  static _registry: Map<string, TypeEntry> = new Map();
  /** @internal Which server the class runs: SharedMemoryManager's tracks segments. */
  static _serverKind: ServerKind = 'base';

  #address: Address | null;
  readonly #authkey: Buffer;
  readonly #ctx: Context;
  readonly #shutdownTimeout: number;
  #state: State = 'initial';
  #process: Process | null = null;

  /**
   * A manager, not yet started or connected.
   *
   * @throws TypeError for options of the wrong type.
   */
  constructor(options: ManagerOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
    this.#address = checkAddress(options.address);
    this.#authkey = authkeyOf(options.authkey);
    const ctx = options.ctx ?? null;
    // Required here: the context module itself loads this one.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { getContext } = require('../context') as typeof import('../context');
    this.#ctx = ctx === null || typeof ctx === 'string' ? getContext(ctx) : ctx;
    this.#shutdownTimeout = checkTimeout(options.shutdownTimeout ?? 1000, 'options.shutdownTimeout') ?? 1000;
  }

  /**
   * Registers a type on this manager class (Python's `BaseManager.register`):
   * `callable` makes the referent in the server (a class or a function; for a
   * spawn or forkserver server it crosses by reference, so export it). Unless
   * `createMethod` is false, `manager[typeid](...args)` then makes one and
   * resolves with its proxy: `proxytype`, or an AutoProxy with a method per
   * exposed name. Register before start(); each subclass has its own types.
   *
   * @throws TypeError for a typeid that is not an identifier, or options of
   * the wrong type.
   */
  static register(typeid: string, callable?: ReferentMaker | null, options: RegisterOptions = {}): void {
    if (typeof typeid !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(typeid)) {
      throw new TypeError(`The "typeid" argument must be an identifier; received ${String(typeid)}`);
    }
    if (callable !== undefined && callable !== null && typeof callable !== 'function') {
      throw new TypeError('The "callable" argument must be a function or class');
    }
    if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
    const { exposed = null, methodToTypeid = null, proxytype = null, createMethod = true } = options;
    if (exposed !== null && (!Array.isArray(exposed) || !exposed.every((name) => typeof name === 'string'))) {
      throw new TypeError('The "options.exposed" property must be an array of method names');
    }
    if (methodToTypeid !== null && (typeof methodToTypeid !== 'object' || !Object.values(methodToTypeid).every((t) => typeof t === 'string'))) {
      throw new TypeError('The "options.methodToTypeid" property must map method names to typeids');
    }
    if (proxytype !== null && !(typeof proxytype === 'function' && proxytype.prototype instanceof BaseProxy)) {
      throw new TypeError('The "options.proxytype" property must be a subclass of BaseProxy');
    }
    if (typeof createMethod !== 'boolean') throw new TypeError('The "options.createMethod" property must be a boolean');
    if (!Object.hasOwn(this, '_registry')) this._registry = new Map(this._registry);
    const entry: TypeEntry = {
      typeid,
      callable: callable ?? null,
      exposed: exposed ?? proxytype?.exposed ?? null,
      methodToTypeid: methodToTypeid ?? proxytype?.methodToTypeid ?? null,
      proxytype,
      builtin: false,
    };
    this._registry.set(typeid, entry);
    if (proxytype !== null) setProxyType(typeid, proxytype);
    if (createMethod) {
      Object.defineProperty(this.prototype, typeid, {
        value: function (this: BaseManager, ...args: unknown[]) {
          return this._create(typeid, args);
        },
        writable: true,
        configurable: true,
      });
    }
  }

  /** @internal SyncManager's own types: made by name in the server. */
  static _registerBuiltin(typeid: string, proxytype: ProxyClass): void {
    if (!Object.hasOwn(this, '_registry')) this._registry = new Map(this._registry);
    this._registry.set(typeid, { typeid, callable: null, exposed: null, methodToTypeid: null, proxytype, builtin: true });
  }

  /**
   * Where the server listens: the address given, or the one a started server
   * chose; null before start() without one.
   */
  get address(): Address | null {
    return this.#address === null ? null : Array.isArray(this.#address) ? [this.#address[0], this.#address[1]] : this.#address;
  }

  /** The key connections to the server prove they hold (a copy): `options.authkey`, or this process's. */
  get authkey(): Buffer {
    return Buffer.from(this.#authkey);
  }

  /** The server process, once start() has run (null for a connected manager). */
  get process(): Process | null {
    return this.#process;
  }

  #specs(): SentTypeSpec[] {
    const registry = (this.constructor as typeof BaseManager)._registry;
    return [...registry.values()].map((entry) =>
      entry.builtin
        ? { typeid: entry.typeid, builtin: true as const }
        : { typeid: entry.typeid, callable: entry.callable as ServerTypeSpec['callable'], exposed: entry.exposed, methodToTypeid: entry.methodToTypeid },
    );
  }

  /**
   * Starts the server in a new process (of this manager's context) and
   * resolves with this manager once it serves. `initializer(...initargs)`
   * runs first in the server.
   *
   * @throws {@link ProcessError} (as a rejection) when already started, or
   * when the server exits before serving; the server's own error when it
   * fails to start (an address in use, say).
   */
  async start(initializer?: ((...args: never[]) => unknown) | null, initargs: unknown[] = []): Promise<this> {
    if (this.#state !== 'initial') throw new ProcessError(this.#state === 'started' ? 'Already started server' : `Unable to start a manager in state ${this.#state}`);
    if (initializer !== undefined && initializer !== null && typeof initializer !== 'function') {
      throw new TypeError('The "initializer" argument must be a function');
    }
    if (!Array.isArray(initargs)) throw new TypeError('The "initargs" argument must be an array');
    const cls = this.constructor as typeof BaseManager;
    const [reader, writer] = Pipe(false);
    // This process's own channel to the server, ready before it starts: no connect, no handshake.
    const [mine, theirs] = Pipe(true);
    // A path in this process's private directory, made here once: the server need not make its own.
    const address = this.#address ?? arbitraryUnixAddress();
    const server = new this.#ctx.Process({
      target: runManagerServer,
      args: [cls._serverKind, this.#specs(), address, this.#authkey, writer, theirs, initializer ?? null, initargs],
    });
    server.name = server.name.replace(/^Process/, cls.name);
    try {
      server.start();
    } catch (error) {
      mine.close();
      throw error;
    } finally {
      writer.close();
    }
    let reply: { address?: Address; error?: unknown };
    try {
      reply = (await reader.recv()) as typeof reply;
    } catch (error) {
      mine.close();
      await server.join();
      throw new ProcessError(`the manager's server exited before serving (exit code ${String(server.exitCode)})`, { cause: error });
    } finally {
      reader.close();
      theirs.close();
    }
    if (reply.error !== undefined) {
      mine.close();
      await server.join();
      throw reply.error;
    }
    this.#address = reply.address as Address;
    Link.adopt(this.#address, this.#authkey, mine);
    this.#process = server;
    this.#state = 'started';
    started.add(this);
    installExitHook();
    debug('manager %s started, pid %d, at %j', cls.name, server.pid, this.#address);
    return this;
  }

  /**
   * Connects to a server already running at `options.address` (started
   * elsewhere, with the same authkey: Python's `connect()`); resolves with
   * this manager.
   *
   * @throws TypeError without an address; {@link AuthenticationError} for a
   * wrong key; {@link ProcessError} when already started or connected.
   */
  async connect(): Promise<this> {
    if (this.#address === null) throw new TypeError('connect() needs options.address: the address of a running server');
    if (this.#state !== 'initial') throw new ProcessError(`Unable to connect a manager in state ${this.#state}`);
    await this.#link().call(Op.Dummy, []);
    this.#state = 'connected';
    return this;
  }

  /**
   * A {@link managers.Server} that this process runs itself: `await
   * server.serveForever()` serves until shutdown. It is bound at once, so
   * `address` is known.
   *
   * @throws {@link ProcessError} once started or connected.
   */
  getServer(): Server {
    if (this.#state !== 'initial') throw new ProcessError(`Unable to get a server of a manager in state ${this.#state}`);
    const cls = this.constructor as typeof BaseManager;
    const server = makeServer(cls._serverKind, this.#specs(), this.#address, this.#authkey);
    this.#address = server.address;
    return server;
  }

  #link(): Link {
    if (this.#address === null) throw new ProcessError('the manager has no server: call start() or connect() first');
    return Link.for(this.#address, this.#authkey);
  }

  #checkUsable(): void {
    if (this.#state === 'initial') throw new ProcessError('the manager has not been started: call start() or connect() first');
    if (this.#state === 'shutdown') throw new ProcessError('the manager has been shut down');
  }

  /** @internal Makes a `typeid` in the server; resolves with its proxy. */
  async _create(typeid: string, args: unknown[] = []): Promise<BaseProxy> {
    this.#checkUsable();
    const entry = (this.constructor as typeof BaseManager)._registry.get(typeid);
    const address = this.#address as Address;
    const authkey = this.#authkey;
    return (await this.#link().call(Op.Create, [typeid, args], (info) =>
      proxyFor(info, address, authkey, { owned: true }, entry?.proxytype ?? (entry?.exposed ? autoProxyType(entry.exposed) : null)),
    )) as BaseProxy;
  }

  /** @internal A server method by name (SharedMemoryManager's segment tracking). */
  protected async _callServer(name: string, args: unknown[]): Promise<unknown> {
    this.#checkUsable();
    return this.#link().call(Op.Extension, [name, args]);
  }

  /** What the server holds, one referent per line with its reference count (Python's `_debug_info()`). */
  async debugInfo(): Promise<string> {
    this.#checkUsable();
    return (await this.#link().call(Op.DebugInfo, [])) as string;
  }

  /** How many referents the server holds (Python's `_number_of_objects()`). */
  async numberOfObjects(): Promise<number> {
    this.#checkUsable();
    return (await this.#link().call(Op.NumberOfObjects, [])) as number;
  }

  /** Waits for a started server to exit, up to `timeoutMs` milliseconds (undefined or null: no limit). */
  async join(timeoutMs?: number | null): Promise<void> {
    if (this.#process !== null) await this.#process.join(timeoutMs);
  }

  /**
   * Stops a started server (its referents go with it): asks it, then
   * terminates and at last kills it if it has not exited within
   * `shutdownTimeout`. A connected manager only lets go of its connection.
   * Proxies of the server fail afterwards. Nothing happens a second time.
   */
  async shutdown(): Promise<void> {
    if (this.#state === 'shutdown' || this.#state === 'initial') return;
    const wasStarted = this.#state === 'started';
    this.#state = 'shutdown';
    started.delete(this);
    if (!wasStarted) return;
    const server = this.#process as Process;
    if (server.exitCode === null) {
      info('sending shutdown message to manager');
      try {
        await this.#link().call(Op.Shutdown, []);
      } catch (error) {
        debug('manager shutdown request failed: %s', String(error));
      }
      await server.join(this.#shutdownTimeout);
      if (server.exitCode === null) {
        info('manager still alive; trying to terminate() manager process');
        server.terminate();
        await server.join(this.#shutdownTimeout);
        if (server.exitCode === null) {
          info('manager still alive after terminate; killing it');
          server.kill();
          await server.join();
        }
      }
    }
    Link.existing(this.#address as Address, this.#authkey)?.close();
  }

  /** `await using manager = …`: shutdown() at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  /** @internal Python's exit-time finalizer: a started server is asked to stop, then terminated. */
  _shutdownSync(): void {
    if (this.#state !== 'started') return;
    this.#state = 'shutdown';
    const server = this.#process as Process;
    if (server.exitCode !== null) return;
    Link.existing(this.#address as Address, this.#authkey)?.post([-1, Op.Shutdown]);
    server.joinSync(this.#shutdownTimeout);
    if (server.exitCode === null) {
      server.terminate();
      server.joinSync(this.#shutdownTimeout);
    }
  }

  /** @internal A manager that crossed to another process: it uses the same server, and does not own it. */
  static _connected<M extends BaseManager>(cls: new (options: ManagerOptions) => M, address: Address, authkey: Buffer): M {
    const manager = new cls({ address, authkey });
    manager.#state = 'connected';
    return manager;
  }

  /** `<SyncManager state=started address="/tmp/…">`. */
  toString(): string {
    return `<${this.constructor.name} state=${this.#state} address=${JSON.stringify(this.#address)}>`;
  }
}

// A fork child inherits its parent's managers, not the duty to stop them.
registerAtFork({ afterInChild: () => started.clear() });

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Before the 'children' stage joins every child: the server must be told to stop first.
  atExit('flush', () => {
    for (const manager of [...started]) {
      if (manager.process?.pid === undefined) continue;
      manager._shutdownSync();
    }
    started.clear();
  });
}

interface ManagerState {
  cls: new (options: ManagerOptions) => BaseManager;
  address: Address;
  authkey: Buffer;
}

// A manager passed to a child arrives connected to the same server.
registerReducer<BaseManager, ManagerState>('multiprocessing.managers.BaseManager', BaseManager, {
  reduce(manager) {
    if (manager.address === null) throw new ProcessError('a manager crosses to another process once it has a server (after start() or connect())');
    return { cls: manager.constructor as ManagerState['cls'], address: manager.address, authkey: manager.authkey };
  },
  revive: (state) => BaseManager._connected(state.cls, state.address, Buffer.from(state.authkey)),
});

/**
 * The manager of {@link Manager} (Python's `SyncManager`), with the usual
 * shared types, each method resolving with a proxy whose methods are the
 * referent's, async. Start it with `start()`, or let {@link Manager} do it.
 *
 * @category Managers
 * @example
 * ```ts
 * const manager = await new mp.SyncManager().start(); // what mp.Manager() does
 * const ns = await manager.Namespace({ step: 0 });
 * await ns.set('step', 1);
 * console.log(await ns.get('step')); // 1
 * await manager.shutdown();
 * ```
 */
export class SyncManager extends BaseManager {
  /** A list in the server, a copy of `init` (Python's `manager.list()`). */
  list<T = unknown>(init?: Iterable<T>): Promise<ListProxy<T>> {
    return this._create('list', init === undefined ? [] : [Array.isArray(init) ? init : [...init]]) as Promise<ListProxy<T>>;
  }
  /** A dict in the server (keys of any type, as a Map), from an object, a Map or `[key, value]` pairs. */
  dict<K = unknown, V = unknown>(init?: Record<string, V> | Map<K, V> | Iterable<readonly [K, V]>): Promise<DictProxy<K, V>> {
    return this._create('dict', init === undefined ? [] : [init]) as Promise<DictProxy<K, V>>;
  }
  /** An object of named attributes in the server, starting with those of `init`. */
  Namespace(init?: Record<string, unknown>): Promise<NamespaceProxy> {
    return this._create('Namespace', init === undefined ? [] : [init]) as Promise<NamespaceProxy>;
  }
  /** A value in the server (`typecode` is kept for Python's sake; any value may be set). */
  Value<T = unknown>(typecode: string, value: T): Promise<ValueProxy<T>> {
    return this._create('Value', [typecode, value]) as Promise<ValueProxy<T>>;
  }
  /**
   * An array of C numbers of `typecode` in the server: `sequence` or a length
   * (zeroed). Sets are checked against the typecode.
   */
  Array<T extends number | bigint = number>(typecode: string, sequence: Iterable<number | bigint> | number): Promise<ArrayProxy<T>> {
    return this._create('Array', [typecode, typeof sequence === 'number' ? sequence : [...sequence]]) as Promise<ArrayProxy<T>>;
  }
  /** A queue in the server (at most `maxsize` items; 0: no limit). */
  Queue<T = unknown>(maxsize = 0): Promise<QueueProxy<T>> {
    return this._create('Queue', [maxsize]) as Promise<QueueProxy<T>>;
  }
  /** A joinable queue in the server (at most `maxsize` items; 0: no limit). */
  JoinableQueue<T = unknown>(maxsize = 0): Promise<JoinableQueueProxy<T>> {
    return this._create('JoinableQueue', [maxsize]) as Promise<JoinableQueueProxy<T>>;
  }
  /** A lock in the server: any process with a proxy of it may release it. */
  Lock(): Promise<LockProxy> {
    return this._create('Lock') as Promise<LockProxy>;
  }
  /** A recursive lock in the server, owned by the connection of the process that acquired it. */
  RLock(): Promise<AcquirerProxy> {
    return this._create('RLock') as Promise<AcquirerProxy>;
  }
  /** A semaphore in the server holding `value` units. */
  Semaphore(value = 1): Promise<SemaphoreProxy> {
    return this._create('Semaphore', [value]) as Promise<SemaphoreProxy>;
  }
  /** A semaphore in the server that may not be released above `value`. */
  BoundedSemaphore(value = 1): Promise<SemaphoreProxy> {
    return this._create('BoundedSemaphore', [value]) as Promise<SemaphoreProxy>;
  }
  /** A Condition on `lock` (a Lock or RLock proxy of this manager), or on a new RLock. */
  Condition(lock?: LockProxy | AcquirerProxy | null): Promise<ConditionProxy> {
    return this._create('Condition', lock === undefined || lock === null ? [] : [lock]) as Promise<ConditionProxy>;
  }
  /** An event in the server. */
  Event(): Promise<EventProxy> {
    return this._create('Event') as Promise<EventProxy>;
  }
  /** A barrier in the server for `parties` callers (an `action` runs in the server). */
  Barrier(parties: number, options?: BarrierOptions): Promise<BarrierProxy> {
    return this._create('Barrier', options === undefined ? [parties] : [parties, options]) as Promise<BarrierProxy>;
  }
  /** A {@link Pool} in the server process (its workers are the server's children). */
  Pool(options?: number | PoolOptions): Promise<PoolProxy> {
    return this._create('Pool', options === undefined ? [] : [options]) as Promise<PoolProxy>;
  }
}

for (const typeid of SYNC_MANAGER_TYPEIDS) SyncManager._registerBuiltin(typeid, proxyTypeOf(typeid) ?? BaseProxy);

/**
 * Starts a {@link SyncManager}, its server in a new process (of
 * `options.ctx`'s start method), and resolves with it (Python's
 * `multiprocessing.Manager()`). Shut it down with `shutdown()` or
 * `await using`; the server also stops when this process ends.
 *
 * @category Managers
 * @example
 * ```ts
 * await using manager = await mp.Manager();
 * const results = await manager.list<number>();
 * const workers = [1, 2, 3].map((n) => new mp.Process({ target: record, args: [results, n] })); // record: exported
 * workers.forEach((w) => w.start());
 * await Promise.all(workers.map((w) => w.join()));
 * console.log((await results.toArray()).sort()); // [ 1, 2, 3 ]
 * ```
 */
export async function Manager(options: ManagerOptions = {}): Promise<SyncManager> {
  return new SyncManager(options).start();
}
