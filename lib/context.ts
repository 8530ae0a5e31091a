// Start methods and contexts (docs/API.md section 1; CPython's context.py).
import { chooseMethod, chosenMethod } from './process/current';
import { ProcessError } from './errors';
import { setForkserverPreload, setForkserverWarmChildren } from './process/forkserver';
import { ForkPopen } from './process/popen/fork';
import { ForkserverPopen } from './process/popen/forkserver';
import { SpawnPopen } from './process/popen/spawn';
import {
  activeChildren,
  cpuCount,
  currentProcess,
  ParentProcess,
  parentProcess,
  Process,
  setLauncherResolver,
  type Popen,
  type StartMethod,
} from './process/process';
import * as atomics from './sharedmem/atomics';
import {
  AuthenticationError,
  BrokenBarrierError,
  BufferTooShort,
  EOFError,
  Empty,
  Full,
  RemoteError,
  SerializationError,
  TimeoutError,
  WorkerLostError,
} from './errors';
import { lazy } from './lazy';
import type * as managersModule from './managers/index';
import type * as poolModule from './pool/index';
import * as reduction from './serialize/reduction_api';
import { CRITICAL, DEBUG, ERROR, INFO, NOTSET, SUBDEBUG, SUBWARNING, WARNING, getLogger, logToStderr } from './logging';
import { registerAtFork } from './process/at_fork';

type Launcher = (process: Process) => Popen;

/** Start methods implemented on this platform, the default first. */
const launchers: ReadonlyMap<StartMethod, Launcher> = new Map<StartMethod, Launcher>([
  ['forkserver', (p) => new ForkserverPopen(p)],
  ['fork', (p) => new ForkPopen(p)],
  ['spawn', (p) => new SpawnPopen(p)],
]);

const allMethods: readonly StartMethod[] = ['fork', 'spawn', 'forkserver'];

function checkMethod(method: unknown, parameter = 'method'): StartMethod {
  if (typeof method !== 'string' || !allMethods.includes(method as StartMethod)) {
    throw new RangeError(
      `The "${parameter}" argument must be one of ${allMethods.map((m) => `'${m}'`).join(', ')}; ` +
        `received ${typeof method === 'string' ? `'${method}'` : String(method)}`,
    );
  }
  if (!launchers.has(method as StartMethod)) {
    throw new RangeError(
      `cannot find context for '${method}': available start methods are ` +
        [...launchers.keys()].map((m) => `'${m}'`).join(', '),
    );
  }
  return method as StartMethod;
}

/**
 * A start method and the whole top level with it (Python's context
 * objects), from {@link getContext}: every function and class of the
 * package but Context itself. `ctx.Process`, `ctx.Pool` and `ctx.Manager()`
 * start their processes with the context's method; the other members are
 * the top-level ones (a lock, queue or shared value made through any
 * context crosses to children of every method). A context's method is
 * fixed: its setStartMethod() throws.
 *
 * @category Processes
 * @example
 * ```ts
 * const ctx = mp.getContext('spawn');
 * const q = new ctx.Queue<number>();
 * const p = new ctx.Process({ target: produce, args: [q] }); // produce: an exported function
 * p.start();
 * console.log(await q.get());
 * await p.join();
 * ```
 */
export class Context {
  readonly #method: StartMethod;
  /**
   * {@link Process}, bound to this context's start method: `new ctx.Process(...)`
   * starts with it whatever the default is.
   */
  readonly Process: typeof Process;
  #pool: typeof poolModule.Pool | null = null;

  /** @internal Contexts come from getContext(), one per method. */
  constructor(method: StartMethod) {
    this.#method = checkMethod(method);
    const bound = method;
    this.Process = class extends Process {
      static override readonly startMethod: StartMethod | null = bound;
    };
    Object.defineProperty(this.Process, 'name', { value: 'Process' });
  }

  /**
   * {@link Pool}, its workers started with this context's start method
   * (`new ctx.Pool(4)`).
   */
  get Pool(): typeof poolModule.Pool {
    if (this.#pool === null) {
      const context = this;
      const Base = lazy.pool().Pool;
      this.#pool = class extends Base {
        constructor(options: number | poolModule.PoolOptions = {}) {
          super(typeof options === 'number' ? { processes: options, context } : options?.backend !== undefined ? options : { context, ...options });
        }
      };
      Object.defineProperty(this.#pool, 'name', { value: 'Pool' });
    }
    return this.#pool;
  }

  /** This context's start method. */
  getStartMethod(): StartMethod {
    return this.#method;
  }

  /**
   * {@link Manager}: a started SyncManager whose server process starts with
   * this context's method.
   */
  Manager(options: Omit<managersModule.ManagerOptions, 'ctx'> = {}): Promise<managersModule.SyncManager> {
    return lazy.managers().Manager({ ...options, ctx: this });
  }

  /**
   * This context, given no method (Python's `BaseContext.get_context(None)`);
   * else the context of `method`, as {@link getContext}.
   */
  getContext(method?: StartMethod | null): Context {
    return method === undefined || method === null ? this : getContext(method);
  }

  /**
   * Always throws: a context's method is fixed (Python's concrete contexts
   * raise the same). Use the top-level {@link setStartMethod}.
   *
   * @throws Error `'cannot set start method of concrete context'`.
   */
  setStartMethod(_method: StartMethod | null, _options?: { force?: boolean }): never {
    throw new Error('cannot set start method of concrete context');
  }

  /** The top-level {@link getAllStartMethods}. */
  // Everything else of the top level (docs/API.md section 1). None of it depends
  // on the start method: a primitive, a queue or a shared value made here
  // crosses to children of any method.
  getAllStartMethods = getAllStartMethods;
  /** The top-level {@link setForkserverPreload}. */
  setForkserverPreload = setForkserverPreload;
  /** The top-level {@link setForkserverWarmChildren}. */
  setForkserverWarmChildren = setForkserverWarmChildren;
  /** The top-level {@link currentProcess}. */
  currentProcess = currentProcess;
  /** The top-level {@link parentProcess}. */
  parentProcess = parentProcess;
  /** The top-level {@link activeChildren}. */
  activeChildren = activeChildren;
  /** The top-level {@link cpuCount}. */
  cpuCount = cpuCount;
  /** The top-level {@link registerAtFork}. */
  registerAtFork = registerAtFork;
  /** The top-level {@link getLogger}. */
  getLogger = getLogger;
  /** The top-level {@link logToStderr}. */
  logToStderr = logToStderr;
  /** The log level {@link NOTSET}. */
  readonly NOTSET = NOTSET;
  /** The log level {@link SUBDEBUG}. */
  readonly SUBDEBUG = SUBDEBUG;
  /** The log level {@link DEBUG}. */
  readonly DEBUG = DEBUG;
  /** The log level {@link INFO}. */
  readonly INFO = INFO;
  /** The log level {@link SUBWARNING}. */
  readonly SUBWARNING = SUBWARNING;
  /** The log level {@link WARNING}. */
  readonly WARNING = WARNING;
  /** The log level {@link ERROR}. */
  readonly ERROR = ERROR;
  /** The log level {@link CRITICAL}. */
  readonly CRITICAL = CRITICAL;
  /** {@link ParentProcess}. */
  ParentProcess = ParentProcess;
  /** {@link Lock}, as at the top level (loaded at first use). */
  // Loaded at first use (lazy.ts), as in the index.
  get Lock() {
    return lazy.synchronize().Lock;
  }
  /** {@link RLock}, as at the top level (loaded at first use). */
  get RLock() {
    return lazy.synchronize().RLock;
  }
  /** {@link Semaphore}, as at the top level (loaded at first use). */
  get Semaphore() {
    return lazy.synchronize().Semaphore;
  }
  /** {@link BoundedSemaphore}, as at the top level (loaded at first use). */
  get BoundedSemaphore() {
    return lazy.synchronize().BoundedSemaphore;
  }
  /** {@link Condition}, as at the top level (loaded at first use). */
  get Condition() {
    return lazy.synchronize().Condition;
  }
  /** {@link Event}, as at the top level (loaded at first use). */
  get Event() {
    return lazy.synchronize().Event;
  }
  /** {@link Barrier}, as at the top level (loaded at first use). */
  get Barrier() {
    return lazy.synchronize().Barrier;
  }
  /** {@link Pipe}, as at the top level (loaded at first use). */
  get Pipe() {
    return lazy.connection().Pipe;
  }
  /** {@link Connection}, as at the top level (loaded at first use). */
  get Connection() {
    return lazy.connection().Connection;
  }
  /** {@link wait}, as at the top level (loaded at first use). */
  get wait() {
    return lazy.connection().wait;
  }
  /** The {@link connection} namespace, as at the top level (loaded at first use). */
  get connection() {
    return lazy.connection();
  }
  /** The {@link cluster} namespace (loaded at first use): a Pool whose tasks run on other machines. */
  get cluster() {
    return lazy.cluster();
  }
  /** The {@link atomics} namespace. */
  atomics = atomics;
  /** {@link Queue}, as at the top level (loaded at first use). */
  get Queue() {
    return lazy.queues().Queue;
  }
  /** {@link JoinableQueue}, as at the top level (loaded at first use). */
  get JoinableQueue() {
    return lazy.queues().JoinableQueue;
  }
  /** {@link SimpleQueue}, as at the top level (loaded at first use). */
  get SimpleQueue() {
    return lazy.queues().SimpleQueue;
  }
  /** {@link AsyncResult}, as at the top level (loaded at first use). */
  get AsyncResult() {
    return lazy.pool().AsyncResult;
  }
  /** {@link SharedMemory}, as at the top level (loaded at first use). */
  get SharedMemory() {
    return lazy.sharedMemory().SharedMemory;
  }
  /** {@link ShareableList}, as at the top level (loaded at first use). */
  get ShareableList() {
    return lazy.shareableList().ShareableList;
  }
  /** {@link Value}, as at the top level (loaded at first use). */
  get Value() {
    return lazy.sharedctypes().Value;
  }
  /** {@link Array}, as at the top level (loaded at first use). */
  get Array() {
    return lazy.sharedctypes().Array_;
  }
  /** {@link RawValue}, as at the top level (loaded at first use). */
  get RawValue() {
    return lazy.sharedctypes().RawValue;
  }
  /** {@link RawArray}, as at the top level (loaded at first use). */
  get RawArray() {
    return lazy.sharedctypes().RawArray;
  }
  /** {@link SharedValue}, as at the top level (loaded at first use). */
  get SharedValue() {
    return lazy.sharedctypes().SharedValue;
  }
  /** {@link SynchronizedValue}, as at the top level (loaded at first use). */
  get SynchronizedValue() {
    return lazy.sharedctypes().SynchronizedValue;
  }
  /** {@link SynchronizedArray}, as at the top level (loaded at first use). */
  get SynchronizedArray() {
    return lazy.sharedctypes().SynchronizedArray;
  }
  /** The {@link reduction} namespace. */
  reduction = reduction;
  /** The {@link managers} namespace, as at the top level (loaded at first use). */
  get managers() {
    return lazy.managers();
  }
  /** {@link BaseManager}, as at the top level (loaded at first use). */
  get BaseManager() {
    return lazy.managers().BaseManager;
  }
  /** {@link SyncManager}, as at the top level (loaded at first use). */
  get SyncManager() {
    return lazy.managers().SyncManager;
  }
  /** {@link SharedMemoryManager}, as at the top level (loaded at first use). */
  get SharedMemoryManager() {
    return lazy.managers().SharedMemoryManager;
  }
  /** {@link BaseProxy}, as at the top level (loaded at first use). */
  get BaseProxy() {
    return lazy.managers().BaseProxy;
  }
  /** The error class {@link ProcessError}. */
  ProcessError = ProcessError;
  /** The error class {@link AuthenticationError}. */
  AuthenticationError = AuthenticationError;
  /** The error class {@link BrokenBarrierError}. */
  BrokenBarrierError = BrokenBarrierError;
  /** The error class {@link BufferTooShort}. */
  BufferTooShort = BufferTooShort;
  /** The error class {@link EOFError}. */
  EOFError = EOFError;
  /** The error class {@link Empty}. */
  Empty = Empty;
  /** The error class {@link Full}. */
  Full = Full;
  /** The error class {@link RemoteError}. */
  RemoteError = RemoteError;
  /** The error class {@link SerializationError}. */
  SerializationError = SerializationError;
  /** The error class {@link TimeoutError}. */
  TimeoutError = TimeoutError;
  /** The error class {@link WorkerLostError}. */
  WorkerLostError = WorkerLostError;
}

const contexts = new Map<StartMethod, Context>();

/**
 * The context of `method`, or of the current start method (the one set,
 * else the default) given none. There is one context per method.
 *
 * @throws RangeError for a method that is not one of
 * {@link getAllStartMethods}.
 * @category Processes
 * @example
 * ```ts
 * const ctx = mp.getContext('fork');
 * const p = new ctx.Process({ target: () => console.log('forked, closures welcome') });
 * p.start();
 * await p.join();
 * ```
 */
export function getContext(method?: StartMethod | null): Context {
  const resolved = method === undefined || method === null ? defaultMethod() : checkMethod(method);
  let context = contexts.get(resolved);
  if (context === undefined) {
    context = new Context(resolved);
    contexts.set(resolved, context);
  }
  return context;
}

function defaultMethod(): StartMethod {
  return chosenMethod() ?? getAllStartMethods()[0];
}

/**
 * The start methods available on this platform, the default first:
 * `['forkserver', 'fork', 'spawn']` on Linux and macOS.
 *
 * @category Processes
 * @example
 * ```ts
 * console.log(mp.getAllStartMethods()); // [ 'forkserver', 'fork', 'spawn' ]
 * ```
 */
export function getAllStartMethods(): StartMethod[] {
  return [...launchers.keys()];
}

/**
 * The start method processes use by default. Unless `allowNone`, asking
 * fixes it: the default is chosen when none was set (and a later
 * setStartMethod() without `force` throws). With `allowNone`, null while
 * none has been chosen. A child returns the method that started it.
 *
 * @category Processes
 * @example
 * ```ts
 * console.log(mp.getStartMethod(true)); // null: nothing chosen yet
 * console.log(mp.getStartMethod()); // 'forkserver', and now chosen
 * ```
 */
export function getStartMethod(allowNone = false): StartMethod | null {
  if (chosenMethod() === null && !allowNone) chooseMethod(defaultMethod());
  return chosenMethod();
}

/**
 * Chooses the default start method, once: a second call without `force`
 * throws. With `force` it changes the choice (null with `force` forgets it,
 * as in Python). Call it behind the main guard, before starting processes.
 *
 * @throws Error `'context has already been set'` on a second call without
 * `force`; RangeError for an unknown method; TypeError for options that are
 * not an object.
 * @category Processes
 * @example
 * ```ts
 * if (require.main === module) {
 *   mp.setStartMethod('spawn');
 *   new mp.Process({ target: work }).start(); // work: an exported function
 * }
 * ```
 */
export function setStartMethod(method: StartMethod | null, options: { force?: boolean } = {}): void {
  if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
  const checked = method === null && options.force ? null : checkMethod(method);
  if (chosenMethod() !== null && !options.force) throw new Error('context has already been set');
  chooseMethod(checked);
}

setLauncherResolver((p: Process) => {
  const bound = (p.constructor as typeof Process).startMethod;
  const method = bound ?? defaultMethod();
  const launch = launchers.get(method);
  if (launch === undefined) throw new ProcessError(`start method '${method}' is not available`);
  return launch;
});
