// Process: Python's multiprocessing.Process (docs/API.md section 2).
import { availableParallelism } from 'node:os';

import { isBootstrapping, processState, setProcessState } from './current';
import { ProcessError } from '../errors';
import { atExit } from './exit';
import { native } from '../native';
import { SentinelWaiter } from './popen/sentinel';
import { Revival } from '../serialize/revival';
import { checkSignal, checkTimeout, info, nodeCrypto } from '../util';

/** A started child as the start method sees it (CPython's popen_* objects). */
export interface Popen {
  readonly pid: number;
  readonly sentinel: number;
  /** The exit code once the child has ended (reaping it), else null. */
  poll(): number | null;
  wait(timeoutMs: number | null, signal?: AbortSignal): Promise<number | null>;
  waitSync(timeoutMs: number | null): number | null;
  terminate(): void;
  kill(): void;
  close(): void;
}

/**
 * How a child process starts (docs/API.md section 1):
 *
 * - `'fork'`: the child is a `fork()` of this process, a copy of its memory:
 *   any function, closures included, can be a target, and arguments need not
 *   be serializable.
 * - `'spawn'`: a fresh `node` (same `execPath` and `execArgv`) imports the
 *   main module and the target's module, then runs the target.
 * - `'forkserver'`: a server process, started at first use, forks each child
 *   (the default on Linux and macOS).
 *
 * With `'spawn'` and `'forkserver'` a target must be exported from its module:
 * it crosses by reference.
 *
 * @category Processes
 * @example
 * ```ts
 * const method: mp.StartMethod = 'spawn';
 * const ctx = mp.getContext(method);
 * new ctx.Process({ target: work }).start(); // work: an exported function
 * ```
 */
export type StartMethod = 'fork' | 'spawn' | 'forkserver';

/** A Process as it crosses to a spawn or forkserver child (see Process._snapshot). */
export interface ProcessSnapshot {
  cls: Function | null;
  name: string;
  daemon: boolean;
  identity: number[];
  authkey: Buffer;
  target: Function | null;
  args: unknown[];
  fields: Record<string, unknown>;
}

function bootstrappingError(): ProcessError {
  return new ProcessError(
    'An attempt has been made to start a new process before the current process has finished its ' +
      'bootstrapping phase. This probably means that you are not using the main guard to start your ' +
      'child processes, and the main module, which every spawn and forkserver child imports, starts ' +
      'processes at its top level. Start them behind the guard:\n\n' +
      '    if (require.main === module) { ... }                                   // CommonJS\n' +
      '    if (import.meta.url === pathToFileURL(process.argv[1]).href) { ... }   // ES modules\n\n' +
      "(or use the 'fork' start method).",
  );
}

/** Set by lib/context.ts: which start method a process starts with. */
type Launcher = (process: Process) => Popen;
let resolveLauncher: ((process: Process) => Launcher) | undefined;

export function setLauncherResolver(resolver: (process: Process) => Launcher): void {
  resolveLauncher = resolver;
}

/**
 * What `new Process()` takes (Python's Process keyword arguments); every
 * member is optional, and an unknown one is a TypeError.
 *
 * @category Processes
 * @example
 * ```ts
 * const options: mp.ProcessOptions = { target: work, args: [1, 'two'], name: 'worker-1', daemon: true }; // work: an exported function
 * const p = new mp.Process(options);
 * p.start();
 * ```
 */
export interface ProcessOptions {
  /**
   * The function the child calls with `args` (what the default run() does).
   * With `'spawn'` and `'forkserver'` it must be exported, named or default,
   * from an ES or CommonJS module (SerializationError at start() otherwise);
   * with `'fork'` any function will do.
   */
  // Targets take any arguments: `any` here is what lets a typed function be passed.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  target?: ((...args: any[]) => unknown) | null;
  /**
   * The arguments of `target`: serialized to the child (section 9 of
   * docs/API.md) with `'spawn'` and `'forkserver'`, inherited as they are with
   * `'fork'`. Default `[]`.
   */
  args?: unknown[];
  /**
   * The process's name; default `Process-N` (`Process-1:2` for the second
   * child of `Process-1`).
   */
  name?: string;
  /**
   * Whether the child is daemonic: terminated when its parent exits, and not
   * allowed to start children. Default: the current process's flag.
   */
  daemon?: boolean | null;
}

const knownOptions = new Set(['target', 'args', 'name', 'daemon']);

/** What _makeMain() and _fromSnapshot() pass: a process object of this process, filled in by them. */
const asCurrent = new Revival(null);

/**
 * Options of {@link Process.join}.
 *
 * @category Processes
 * @example
 * ```ts
 * const controller = new AbortController();
 * process.once('SIGINT', () => controller.abort());
 * const options: mp.JoinOptions = { signal: controller.signal };
 * await p.join(null, options); // Ctrl-C rejects the wait; the child runs on
 * ```
 */
export interface JoinOptions {
  /** Aborting rejects the join with the signal's reason; the child runs on. */
  signal?: AbortSignal;
}

/**
 * A child process: Python's `multiprocessing.Process`. It runs
 * `target(...args)`, or the run() of a subclass, in a new process started
 * with the start method of its context ({@link getContext}; by default
 * {@link getStartMethod}).
 *
 * Waiting (join()) returns a Promise and never blocks the event loop;
 * joinSync() blocks the calling thread. At exit a process terminates its
 * daemonic children and joins the others. In the child, an uncaught error
 * prints `Process <name>:` and the stack to stderr and exits with code 1;
 * `run()` may be async, and the child exits when its promise settles.
 *
 * @category Processes
 * @example
 * ```ts
 * // worker.ts: with 'spawn' and 'forkserver' a target is exported from its module
 * export function greet(name: string): void {
 *   console.log(`hello, ${name}, from ${mp.currentProcess().name}`);
 * }
 *
 * // main.ts
 * import { greet } from './worker';
 * const p = new mp.Process({ target: greet, args: ['world'] });
 * p.start();
 * await p.join();
 * console.log(p.exitCode); // 0
 * ```
 */
export class Process {
  /** The start method of processes made by a context (set on ctx.Process). */
  static readonly startMethod: StartMethod | null = null;

  #target: ((...args: unknown[]) => unknown) | null;
  #args: unknown[];
  #name: string;
  #daemon: boolean;
  /** Null only in a main process that has not needed one yet (made at first use: a spawn child is given its parent's). */
  #authkey: Buffer | null;
  #identity: number[];
  #creatorPid: number;
  #popen: Popen | null = null;
  #closed = false;
  #isCurrent = false;

  /**
   * A process object, not yet started. The process counter advances (for
   * the `Process-N` name) whether or not a name is given.
   *
   * @throws TypeError for an unknown option or one of the wrong type.
   */
  constructor(options?: ProcessOptions);
  /** @internal _makeMain()'s and _fromSnapshot()'s. */
  constructor(revival: Revival<null>);
  constructor(options: ProcessOptions | Revival<null> = {}) {
    if (options === asCurrent) {
      this.#target = null;
      this.#args = [];
      this.#name = 'MainProcess';
      this.#daemon = false;
      this.#authkey = null;
      this.#identity = [];
      this.#creatorPid = process.pid;
      this.#isCurrent = true;
      return;
    }
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new TypeError('The "options" argument must be an object');
    }
    for (const key of Object.keys(options)) {
      if (!knownOptions.has(key)) {
        throw new TypeError(`Unknown option "${key}": Process accepts target, args, name and daemon`);
      }
    }
    const { target = null, args = [], name, daemon } = options as ProcessOptions;
    if (target !== null && typeof target !== 'function') {
      throw new TypeError('The "target" option must be a function');
    }
    if (!Array.isArray(args)) throw new TypeError('The "args" option must be an array');
    if (name !== undefined && typeof name !== 'string') {
      throw new TypeError('The "name" option must be a string');
    }
    if (daemon !== undefined && daemon !== null && typeof daemon !== 'boolean') {
      throw new TypeError('The "daemon" option must be a boolean');
    }
    const state = processState();
    state.counter += 1;
    this.#identity = [...state.current.#identity, state.counter];
    this.#target = target as ((...args: unknown[]) => unknown) | null;
    this.#args = [...args];
    this.#name = name ?? `Process-${this.#identity.join(':')}`;
    this.#daemon = daemon ?? state.current.#daemon;
    this.#authkey = Buffer.from(state.current.#key());
    this.#creatorPid = process.pid;
  }

  /**
   * What the child runs: by default `target(...args)`. A subclass overrides it
   * (with `'spawn'` and `'forkserver'` the subclass must be exported from its
   * module; its own enumerable fields travel with it). It may return a
   * promise: the child exits when it settles.
   */
  run(): unknown {
    if (this.#target !== null) return this.#target(...this.#args);
    return undefined;
  }

  /**
   * Starts the child; `pid` is set when it returns. The target and arguments
   * are let go of here (the child has them).
   *
   * @throws {@link ProcessError} when called a second time, on a process
   * object another process created, in a daemonic process, or in a spawn or
   * forkserver child whose main module is still being imported (the message
   * names the main guard to add).
   * @throws {@link SerializationError} with `'spawn'` and `'forkserver'`, for a
   * target, subclass or argument that cannot cross (an inline closure, say).
   */
  start(): void {
    this.#checkClosed();
    if (this.#isCurrent || this.#popen !== null) throw new ProcessError('cannot start a process twice');
    if (this.#creatorPid !== process.pid) {
      throw new ProcessError('can only start a process object created by the current process');
    }
    if (isBootstrapping()) throw bootstrappingError();
    const state = processState();
    if (state.current.#daemon) {
      throw new ProcessError('daemonic processes are not allowed to have children');
    }
    reapFinished();
    if (resolveLauncher === undefined) throw new Error('multiprocessing: no start method registered');
    const launch = resolveLauncher(this);
    this.#popen = launch(this);
    state.children.add(this);
    // As Python's start(): the child has them now; the parent's object lets go (a manager
    // proxy among the arguments would otherwise keep its referent alive as long as this object).
    this.#target = null;
    this.#args = [];
  }

  /**
   * Resolves once the child has exited, or after `timeout` milliseconds
   * (undefined or null: no limit), whichever comes first: check `exitCode` to
   * tell which. A joined child is reaped.
   *
   * @throws {@link ProcessError} (as a rejection) for a process not started or
   * not a child of this process.
   */
  async join(timeout?: number | null, options: JoinOptions = {}): Promise<void> {
    const timeoutMs = checkTimeout(timeout);
    const signal = checkSignal(options.signal);
    const popen = this.#joinable();
    if (popen.poll() === null) await popen.wait(timeoutMs, signal);
    if (popen.poll() !== null) processState().children.delete(this);
  }

  /**
   * {@link Process.join | join()}, blocking the calling thread (as
   * `fs.readFileSync` does) for up to `timeout` milliseconds.
   */
  joinSync(timeout?: number | null): void {
    const timeoutMs = checkTimeout(timeout);
    const popen = this.#joinable();
    if (popen.waitSync(timeoutMs) !== null) processState().children.delete(this);
  }

  /**
   * Whether the process has started and not yet ended (always true for
   * {@link currentProcess}). A child found ended is reaped.
   */
  isAlive(): boolean {
    this.#checkClosed();
    if (this.#isCurrent) return true;
    if (this.#popen === null) return false;
    if (this.#popen.poll() === null) return true;
    processState().children.delete(this);
    return false;
  }

  /**
   * Sends SIGTERM to the child; nothing before start() or once it has ended.
   * Its own children are not signalled.
   */
  terminate(): void {
    this.#checkClosed();
    this.#popen?.terminate();
  }

  /** Sends SIGKILL to the child; nothing before start() or once it has ended. */
  kill(): void {
    this.#checkClosed();
    this.#popen?.kill();
  }

  /**
   * Releases what this object holds for the child (its sentinel descriptor).
   * Afterwards its members throw ProcessError (`pid`, `exitCode`, `daemon`,
   * `sentinel`, start(), join(), isAlive(), …); `name` stays, and a second
   * close() does nothing.
   *
   * @throws {@link ProcessError} while the child is still running (join() or
   * terminate() it first).
   */
  close(): void {
    if (this.#closed) return;
    if (this.#popen !== null) {
      if (this.#popen.poll() === null) {
        throw new ProcessError(
          'Cannot close a process while it is still running. You should first call join() or terminate().',
        );
      }
      this.#popen.close();
      processState().children.delete(this);
    }
    this.#closed = true;
  }

  /**
   * The process's name (`'MainProcess'` in the main process); any string may
   * be set. It has no meaning to the OS.
   */
  get name(): string {
    return this.#name;
  }

  /** Sets the name. @throws TypeError for a non-string. */
  set name(value: string) {
    if (typeof value !== 'string') throw new TypeError('The "name" property must be a string');
    this.#name = value;
  }

  /**
   * Whether the process is daemonic: terminated when its parent exits (on
   * Linux also within about a second of a SIGKILL of the parent), and not
   * allowed to start children.
   */
  get daemon(): boolean {
    this.#checkClosed();
    return this.#daemon;
  }

  /**
   * Sets the flag before start().
   *
   * @throws {@link ProcessError} once started; TypeError for a non-boolean.
   */
  set daemon(value: boolean) {
    this.#checkClosed();
    if (this.#popen !== null || this.#isCurrent) throw new ProcessError('process has already started');
    if (typeof value !== 'boolean') throw new TypeError('The "daemon" property must be a boolean');
    this.#daemon = value;
  }

  /**
   * The authentication key: 32 random bytes in the main process, inherited by
   * every child. Listener, Client and managers use it as their default key.
   */
  get authkey(): Buffer {
    this.#checkClosed();
    return this.#key();
  }

  #key(): Buffer {
    this.#authkey ??= nodeCrypto().randomBytes(32);
    return this.#authkey;
  }

  /** Sets the key (copied). @throws TypeError for anything but a Buffer. */
  set authkey(value: Buffer) {
    this.#checkClosed();
    if (!Buffer.isBuffer(value)) throw new TypeError('The "authkey" property must be a Buffer');
    this.#authkey = Buffer.from(value);
  }

  /**
   * The OS process id: null before start(), `process.pid` for the current
   * process.
   */
  get pid(): number | null {
    this.#checkClosed();
    if (this.#isCurrent) return process.pid;
    return this.#popen?.pid ?? null;
  }

  /** The same as `pid` (Python's alias). */
  get ident(): number | null {
    return this.pid;
  }

  /**
   * null before start() and while running; then 0 for success, 1 for an
   * uncaught error, `n` for `process.exit(n)`, and `-N` when killed by
   * signal `N`.
   */
  get exitCode(): number | null {
    this.#checkClosed();
    if (this.#popen === null) return null;
    return this.#popen.poll();
  }

  /**
   * A file descriptor that becomes readable when the process ends: one of
   * the objects {@link wait} takes. It stays open until close().
   *
   * @throws {@link ProcessError} before start().
   */
  get sentinel(): number {
    this.#checkClosed();
    if (this.#popen === null) throw new ProcessError('process not started');
    return this.#popen.sentinel;
  }

  /** @internal The start method's view of this started child. */
  get _popen(): Popen | null {
    return this.#popen;
  }

  /** @internal Python's _identity: the position in the tree of processes, e.g. [1, 2]. */
  get _identity(): readonly number[] {
    return this.#identity;
  }

  /**
   * Python's repr: `<Process name='Process-1' pid=1234 started>`, with
   * `initial`, `started`, `stopped exitcode=N` or `closed`, and `daemon`.
   */
  toString(): string {
    let status: string;
    if (this.#isCurrent) status = 'started';
    else if (this.#closed) status = 'closed';
    else if (this.#popen === null) status = 'initial';
    else {
      const code = this.#popen.poll();
      status = code === null ? 'started' : `stopped exitcode=${code}`;
    }
    const pid = this.#closed || this.#popen === null ? '' : ` pid=${this.pid}`;
    return `<${this.constructor.name} name='${this.#name}'${pid} ${status}${this.#daemon ? ' daemon' : ''}>`;
  }

  /** @internal What util.inspect shows: toString(). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  #joinable(): Popen {
    this.#checkClosed();
    if (this.#isCurrent) throw new ProcessError('can only join a child process');
    if (this.#popen === null) throw new ProcessError('can only join a started process');
    if (this.#creatorPid !== process.pid) throw new ProcessError('can only join a child process');
    return this.#popen;
  }

  #checkClosed(): void {
    if (this.#closed) throw new ProcessError('process object is closed');
  }

  /**
   * @internal Makes this object the current process of a fresh child: it
   * forgets its launcher and counts its own children from 1 (CPython's _bootstrap).
   */
  static _becomeCurrentInChild(child: Process, parent: ParentProcess): void {
    child.#isCurrent = true;
    child.#popen = null;
    setProcessState({ current: child, parent, children: new Set(), counter: 0 });
  }

  /**
   * @internal What a spawn or forkserver child needs to rebuild this object:
   * the class (by reference, for subclasses), Process's own state, and the
   * subclass's own enumerable fields.
   */
  _snapshot(): ProcessSnapshot {
    let cls: Function | null = this.constructor;
    // Process itself and the classes contexts derive from it need no reference.
    while (cls !== null && cls !== Process && Object.prototype.hasOwnProperty.call(cls, 'startMethod')) {
      cls = Object.getPrototypeOf(cls) as Function;
    }
    const fields: Record<string, unknown> = {};
    for (const key of Object.keys(this)) fields[key] = (this as unknown as Record<string, unknown>)[key];
    return {
      cls: cls === Process ? null : cls,
      name: this.#name,
      daemon: this.#daemon,
      identity: this.#identity,
      authkey: this.#key(),
      target: this.#target,
      args: this.#args,
      fields,
    };
  }

  /**
   * @internal Rebuilds a process object in the child from _snapshot() (the
   * constructor of a subclass does not run).
   */
  static _fromSnapshot(snapshot: ProcessSnapshot): Process {
    const cls = (snapshot.cls ?? Process) as typeof Process;
    const child = Reflect.construct(Process, [asCurrent], cls) as Process;
    child.#name = snapshot.name;
    child.#daemon = snapshot.daemon;
    child.#identity = [...snapshot.identity];
    child.#authkey = Buffer.from(snapshot.authkey);
    child.#target = snapshot.target as ((...args: unknown[]) => unknown) | null;
    child.#args = snapshot.args;
    child.#isCurrent = false;
    Object.assign(child, snapshot.fields);
    return child;
  }

  /**
   * @internal Stands for the child in a spawn or forkserver child until its
   * own object has been rebuilt (while the main module is imported).
   */
  static _placeholder(snapshot: Pick<ProcessSnapshot, 'name' | 'daemon' | 'identity' | 'authkey'>): Process {
    const placeholder = Process._makeMain();
    placeholder.#name = snapshot.name;
    placeholder.#daemon = snapshot.daemon;
    placeholder.#identity = [...snapshot.identity];
    placeholder.#authkey = Buffer.from(snapshot.authkey);
    return placeholder;
  }

  /** @internal The main process's own object ('MainProcess'). */
  static _makeMain(): Process {
    return new Process(asCurrent);
  }
}

/**
 * The parent as a child sees it (Python's `_ParentProcess`), from
 * {@link parentProcess}: its name and pid, whether it is still alive, and a
 * wait for its end. With `'forkserver'` it is the logical parent, not the
 * server that forked the child.
 *
 * @category Processes
 * @example
 * ```ts
 * export async function watchdog(): Promise<void> {
 *   const parent = mp.parentProcess();
 *   if (parent !== null) {
 *     await parent.join(); // resolves once the parent has exited
 *     process.exit(1);
 *   }
 * }
 * ```
 */
export class ParentProcess {
  /** The parent's name (`'MainProcess'` for a child of the main process). */
  readonly name: string;
  /** The parent's process id. */
  readonly pid: number;
  #sentinel: number | undefined;

  /** @internal Made by the package in each child. */
  constructor(name: string, pid: number) {
    this.name = name;
    this.pid = pid;
  }

  /** The same as `pid`. */
  get ident(): number {
    return this.pid;
  }

  /**
   * A descriptor that becomes readable once the parent has ended (a pidfd;
   * -1 where the platform has none, as on macOS).
   */
  get sentinel(): number {
    if (this.#sentinel === undefined) this.#sentinel = native.pidfdOpen(this.pid);
    return this.#sentinel;
  }

  /** Whether the parent is still running. */
  isAlive(): boolean {
    const fd = this.sentinel;
    if (fd >= 0) return !native.pollReadable(fd, 0);
    return native.kill(this.pid, 0);
  }

  /**
   * Blocks the calling thread until the parent has ended or `timeout`
   * milliseconds pass (undefined or null: no limit).
   *
   * @throws {@link ProcessError} where the platform has no pidfd (macOS).
   */
  joinSync(timeout?: number | null): void {
    const fd = this.sentinel;
    if (fd < 0) throw new ProcessError('cannot wait for the parent on this platform');
    native.pollReadable(fd, checkTimeout(timeout));
  }

  /**
   * Resolves once the parent has ended or `timeout` milliseconds pass
   * (undefined or null: no limit), without blocking the event loop.
   *
   * @throws {@link ProcessError} (as a rejection) where the platform has no
   * pidfd (macOS).
   */
  async join(timeout?: number | null): Promise<void> {
    const fd = this.sentinel;
    if (fd < 0) throw new ProcessError('cannot wait for the parent on this platform');
    // Through the shared readiness registry: mp.wait() may watch the same
    // descriptor, and libuv allows one poll per descriptor.
    await new SentinelWaiter(fd).wait(checkTimeout(timeout));
  }

  /** Python's repr: `<_ParentProcess name='MainProcess' parent=1234 started>`. */
  toString(): string {
    return `<_ParentProcess name='${this.name}' parent=${this.pid} ${this.isAlive() ? 'started' : 'stopped'}>`;
  }
}

setProcessState({ current: Process._makeMain(), parent: null, children: new Set(), counter: 0 });

/** Reaps children that have ended (Python's _cleanup). */
function reapFinished(): void {
  const { children } = processState();
  for (const child of children) {
    const popen = child._popen;
    if (popen === null || popen.poll() !== null) children.delete(child);
  }
}

/**
 * The Process object of the running process: `'MainProcess'` in the main
 * process; in a child, the object it was started as (with its name,
 * `authkey` and `daemon`; a subclass with its own fields).
 *
 * @category Processes
 * @example
 * ```ts
 * export function work(): void {
 *   const me = mp.currentProcess();
 *   console.log(`${me.name} (pid ${me.pid})`); // Process-1 (pid 4242)
 * }
 * ```
 */
export function currentProcess(): Process {
  return processState().current;
}

/**
 * The parent of this process, or null in the main process.
 *
 * @category Processes
 * @example
 * ```ts
 * const parent = mp.parentProcess();
 * console.log(parent === null ? 'main process' : `child of ${parent.pid}`);
 * ```
 */
export function parentProcess(): ParentProcess | null {
  return processState().parent;
}

/**
 * The children of this process that are still running; finished ones are
 * reaped first (Python's active_children()).
 *
 * @category Processes
 * @example
 * ```ts
 * for (const child of mp.activeChildren()) child.terminate();
 * ```
 */
export function activeChildren(): Process[] {
  reapFinished();
  return [...processState().children];
}

/**
 * The number of logical CPUs this process may use
 * (`os.availableParallelism()`): the default size of a {@link Pool}.
 *
 * @category Processes
 * @example
 * ```ts
 * const pool = new mp.Pool(Math.max(1, mp.cpuCount() - 1));
 * ```
 */
export function cpuCount(): number {
  return availableParallelism();
}

// At exit, as Python's _exit_function: daemonic children are terminated, the others joined.
atExit('children', () => {
  for (const child of activeChildren()) {
    if (child.daemon) {
      info('calling terminate() for daemon %s', child.name);
      child.terminate();
    }
  }
  for (const child of activeChildren()) {
    info('calling join() for process %s', child.name);
    child.joinSync();
  }
});
