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

export interface ProcessOptions {
  // Targets take any arguments: `any` here is what lets a typed function be passed.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  target?: ((...args: any[]) => unknown) | null;
  args?: unknown[];
  name?: string;
  daemon?: boolean | null;
}

const knownOptions = new Set(['target', 'args', 'name', 'daemon']);

/** What _makeMain() and _fromSnapshot() pass: a process object of this process, filled in by them. */
const asCurrent = new Revival(null);

export interface JoinOptions {
  signal?: AbortSignal;
}

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

  /** Runs in the child. Subclasses override it; by default calls target(...args). */
  run(): unknown {
    if (this.#target !== null) return this.#target(...this.#args);
    return undefined;
  }

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

  async join(timeout?: number | null, options: JoinOptions = {}): Promise<void> {
    const timeoutMs = checkTimeout(timeout);
    const signal = checkSignal(options.signal);
    const popen = this.#joinable();
    if (popen.poll() === null) await popen.wait(timeoutMs, signal);
    if (popen.poll() !== null) processState().children.delete(this);
  }

  joinSync(timeout?: number | null): void {
    const timeoutMs = checkTimeout(timeout);
    const popen = this.#joinable();
    if (popen.waitSync(timeoutMs) !== null) processState().children.delete(this);
  }

  isAlive(): boolean {
    this.#checkClosed();
    if (this.#isCurrent) return true;
    if (this.#popen === null) return false;
    if (this.#popen.poll() === null) return true;
    processState().children.delete(this);
    return false;
  }

  terminate(): void {
    this.#checkClosed();
    this.#popen?.terminate();
  }

  kill(): void {
    this.#checkClosed();
    this.#popen?.kill();
  }

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

  get name(): string {
    return this.#name;
  }

  set name(value: string) {
    if (typeof value !== 'string') throw new TypeError('The "name" property must be a string');
    this.#name = value;
  }

  get daemon(): boolean {
    this.#checkClosed();
    return this.#daemon;
  }

  set daemon(value: boolean) {
    this.#checkClosed();
    if (this.#popen !== null || this.#isCurrent) throw new ProcessError('process has already started');
    if (typeof value !== 'boolean') throw new TypeError('The "daemon" property must be a boolean');
    this.#daemon = value;
  }

  get authkey(): Buffer {
    this.#checkClosed();
    return this.#key();
  }

  #key(): Buffer {
    this.#authkey ??= nodeCrypto().randomBytes(32);
    return this.#authkey;
  }

  set authkey(value: Buffer) {
    this.#checkClosed();
    if (!Buffer.isBuffer(value)) throw new TypeError('The "authkey" property must be a Buffer');
    this.#authkey = Buffer.from(value);
  }

  get pid(): number | null {
    this.#checkClosed();
    if (this.#isCurrent) return process.pid;
    return this.#popen?.pid ?? null;
  }

  get ident(): number | null {
    return this.pid;
  }

  get exitCode(): number | null {
    this.#checkClosed();
    if (this.#popen === null) return null;
    return this.#popen.poll();
  }

  get sentinel(): number {
    this.#checkClosed();
    if (this.#popen === null) throw new ProcessError('process not started');
    return this.#popen.sentinel;
  }

  /** The start method's view of this started child (internal). */
  get _popen(): Popen | null {
    return this.#popen;
  }

  /** Python's _identity: the position in the tree of processes, e.g. [1, 2]. */
  get _identity(): readonly number[] {
    return this.#identity;
  }

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
   * Makes this object the current process of a fresh child: it forgets its
   * launcher and counts its own children from 1 (CPython's _bootstrap).
   */
  static _becomeCurrentInChild(child: Process, parent: ParentProcess): void {
    child.#isCurrent = true;
    child.#popen = null;
    setProcessState({ current: child, parent, children: new Set(), counter: 0 });
  }

  /**
   * What a spawn or forkserver child needs to rebuild this object: the
   * class (by reference, for subclasses), Process's own state, and the
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

  /** Rebuilds a process object in the child from _snapshot() (the constructor of a subclass does not run). */
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
   * Stands for the child in a spawn or forkserver child until its own
   * object has been rebuilt (while the main module is imported).
   */
  static _placeholder(snapshot: Pick<ProcessSnapshot, 'name' | 'daemon' | 'identity' | 'authkey'>): Process {
    const placeholder = Process._makeMain();
    placeholder.#name = snapshot.name;
    placeholder.#daemon = snapshot.daemon;
    placeholder.#identity = [...snapshot.identity];
    placeholder.#authkey = Buffer.from(snapshot.authkey);
    return placeholder;
  }

  /** The main process's own object ('MainProcess'). */
  static _makeMain(): Process {
    return new Process(asCurrent);
  }
}

/**
 * The parent as seen from a child (Python's _ParentProcess): its name and
 * pid, and whether it is still alive.
 */
export class ParentProcess {
  readonly name: string;
  readonly pid: number;
  #sentinel: number | undefined;

  constructor(name: string, pid: number) {
    this.name = name;
    this.pid = pid;
  }

  get ident(): number {
    return this.pid;
  }

  /** A descriptor readable once the parent has ended (-1 where unsupported). */
  get sentinel(): number {
    if (this.#sentinel === undefined) this.#sentinel = native.pidfdOpen(this.pid);
    return this.#sentinel;
  }

  isAlive(): boolean {
    const fd = this.sentinel;
    if (fd >= 0) return !native.pollReadable(fd, 0);
    return native.kill(this.pid, 0);
  }

  joinSync(timeout?: number | null): void {
    const fd = this.sentinel;
    if (fd < 0) throw new ProcessError('cannot wait for the parent on this platform');
    native.pollReadable(fd, checkTimeout(timeout));
  }

  async join(timeout?: number | null): Promise<void> {
    const fd = this.sentinel;
    if (fd < 0) throw new ProcessError('cannot wait for the parent on this platform');
    // Through the shared readiness registry: mp.wait() may watch the same
    // descriptor, and libuv allows one poll per descriptor.
    await new SentinelWaiter(fd).wait(checkTimeout(timeout));
  }

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

export function currentProcess(): Process {
  return processState().current;
}

export function parentProcess(): ParentProcess | null {
  return processState().parent;
}

export function activeChildren(): Process[] {
  reapFinished();
  return [...processState().children];
}

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
