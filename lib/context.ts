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

export class Context {
  readonly #method: StartMethod;
  /** Process bound to this context's start method. */
  readonly Process: typeof Process;
  #pool: typeof poolModule.Pool | null = null;

  constructor(method: StartMethod) {
    this.#method = checkMethod(method);
    const bound = method;
    this.Process = class extends Process {
      static override readonly startMethod: StartMethod | null = bound;
    };
    Object.defineProperty(this.Process, 'name', { value: 'Process' });
  }

  /** Pool whose workers start with this context's method. */
  get Pool(): typeof poolModule.Pool {
    if (this.#pool === null) {
      const context = this;
      const Base = lazy.pool().Pool;
      this.#pool = class extends Base {
        constructor(options: number | poolModule.PoolOptions = {}) {
          super(typeof options === 'number' ? { processes: options, context } : { context, ...options });
        }
      };
      Object.defineProperty(this.#pool, 'name', { value: 'Pool' });
    }
    return this.#pool;
  }

  getStartMethod(): StartMethod {
    return this.#method;
  }

  /** A started SyncManager whose server starts with this context's method. */
  Manager(options: Omit<managersModule.ManagerOptions, 'ctx'> = {}): Promise<managersModule.SyncManager> {
    return lazy.managers().Manager({ ...options, ctx: this });
  }

  /** This context with no argument (Python's BaseContext.get_context(None)); else the named one. */
  getContext(method?: StartMethod | null): Context {
    return method === undefined || method === null ? this : getContext(method);
  }

  /** A context's method is fixed: use the top-level setStartMethod() (Python raises the same). */
  setStartMethod(_method: StartMethod | null, _options?: { force?: boolean }): never {
    throw new Error('cannot set start method of concrete context');
  }

  // Everything else of the top level (docs/API.md section 1). None of it depends
  // on the start method: a primitive, a queue or a shared value made here
  // crosses to children of any method.
  getAllStartMethods = getAllStartMethods;
  setForkserverPreload = setForkserverPreload;
  setForkserverWarmChildren = setForkserverWarmChildren;
  currentProcess = currentProcess;
  parentProcess = parentProcess;
  activeChildren = activeChildren;
  cpuCount = cpuCount;
  registerAtFork = registerAtFork;
  getLogger = getLogger;
  logToStderr = logToStderr;
  readonly NOTSET = NOTSET;
  readonly SUBDEBUG = SUBDEBUG;
  readonly DEBUG = DEBUG;
  readonly INFO = INFO;
  readonly SUBWARNING = SUBWARNING;
  readonly WARNING = WARNING;
  readonly ERROR = ERROR;
  readonly CRITICAL = CRITICAL;
  ParentProcess = ParentProcess;
  // Loaded at first use (lazy.ts), as in the index.
  get Lock() {
    return lazy.synchronize().Lock;
  }
  get RLock() {
    return lazy.synchronize().RLock;
  }
  get Semaphore() {
    return lazy.synchronize().Semaphore;
  }
  get BoundedSemaphore() {
    return lazy.synchronize().BoundedSemaphore;
  }
  get Condition() {
    return lazy.synchronize().Condition;
  }
  get Event() {
    return lazy.synchronize().Event;
  }
  get Barrier() {
    return lazy.synchronize().Barrier;
  }
  get Pipe() {
    return lazy.connection().Pipe;
  }
  get Connection() {
    return lazy.connection().Connection;
  }
  get wait() {
    return lazy.connection().wait;
  }
  get connection() {
    return lazy.connection();
  }
  atomics = atomics;
  get Queue() {
    return lazy.queues().Queue;
  }
  get JoinableQueue() {
    return lazy.queues().JoinableQueue;
  }
  get SimpleQueue() {
    return lazy.queues().SimpleQueue;
  }
  get AsyncResult() {
    return lazy.pool().AsyncResult;
  }
  get SharedMemory() {
    return lazy.sharedMemory().SharedMemory;
  }
  get ShareableList() {
    return lazy.shareableList().ShareableList;
  }
  get Value() {
    return lazy.sharedctypes().Value;
  }
  get Array() {
    return lazy.sharedctypes().Array_;
  }
  get RawValue() {
    return lazy.sharedctypes().RawValue;
  }
  get RawArray() {
    return lazy.sharedctypes().RawArray;
  }
  get SharedValue() {
    return lazy.sharedctypes().SharedValue;
  }
  get SynchronizedValue() {
    return lazy.sharedctypes().SynchronizedValue;
  }
  get SynchronizedArray() {
    return lazy.sharedctypes().SynchronizedArray;
  }
  reduction = reduction;
  get managers() {
    return lazy.managers();
  }
  get BaseManager() {
    return lazy.managers().BaseManager;
  }
  get SyncManager() {
    return lazy.managers().SyncManager;
  }
  get SharedMemoryManager() {
    return lazy.managers().SharedMemoryManager;
  }
  get BaseProxy() {
    return lazy.managers().BaseProxy;
  }
  ProcessError = ProcessError;
  AuthenticationError = AuthenticationError;
  BrokenBarrierError = BrokenBarrierError;
  BufferTooShort = BufferTooShort;
  EOFError = EOFError;
  Empty = Empty;
  Full = Full;
  RemoteError = RemoteError;
  SerializationError = SerializationError;
  TimeoutError = TimeoutError;
  WorkerLostError = WorkerLostError;
}

const contexts = new Map<StartMethod, Context>();

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

export function getAllStartMethods(): StartMethod[] {
  return [...launchers.keys()];
}

export function getStartMethod(allowNone = false): StartMethod | null {
  if (chosenMethod() === null && !allowNone) chooseMethod(defaultMethod());
  return chosenMethod();
}

/** Chooses the start method once; with force, again (null with force forgets the choice, as in Python). */
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
