// The fork child's path (CPython's BaseProcess._bootstrap): it starts inside
// the parent's start() call and must never return from it (fact 6
// of docs/ARCHITECTURE.md), so it runs the process object and exits from here.
import { inspect } from 'node:util';

import { chooseMethod } from '../process/current';
import { installExitHandler } from '../process/exit';
import { dropInheritedJsWork, hasPendingJsWork } from './node_internals';
import { native } from '../native';
import { ParentProcess, Process, type StartMethod } from '../process/process';
import { debug, info, isPipeOrSocket, isPromiseLike } from '../util';
import { runAfterForkHooks } from '../process/at_fork';
import { markStartup, resetStartupMarks, writeStartupTrace } from './startup_trace';

/** Exit status of a run() whose promise can never settle (as Node's unsettled top-level await). */
export const UNSETTLED_EXIT_CODE = 13;

// Listeners the parent registered; in Python a child skips the parent's
// atexit handlers too. Signal listeners would keep terminate() from working.
const inheritedEvents = new Set([
  'exit',
  'beforeExit',
  'uncaughtException',
  'uncaughtExceptionMonitor',
  'unhandledRejection',
  'rejectionHandled',
]);

/**
 * What a fork child must undo of its parent's state, seen by the parent
 * just before fork(): the child is a copy, so it need not look again (its
 * first look would be slow: cold code, copy-on-write faults).
 */
export interface InheritedState {
  /** Timers, immediates or ticks are pending. */
  jsWork: boolean;
  /** Events whose listeners the child drops. */
  listeners: string[];
  /** Whether descriptors 1 and 2 are pipes or sockets. */
  pipedStdio: [boolean, boolean];
}

/** Called in the parent right before fork(). */
export function inspectInheritedState(): InheritedState {
  const listeners: string[] = [];
  for (const event of process.eventNames()) {
    if (typeof event !== 'string') continue;
    if (inheritedEvents.has(event) || event.startsWith('SIG')) listeners.push(event);
  }
  return { jsWork: hasPendingJsWork(), listeners, pipedStdio: [isPipeOrSocket(1) === true, isPipeOrSocket(2) === true] };
}

/** What a fork child becomes: its name, its parent, and what it runs. */
export interface ForkChildPlan {
  /** The child's name, for error reports before its object exists. */
  name: string;
  method: StartMethod;
  /** Called first in the child; returns the process object, or a promise of it. */
  become: () => Process | Promise<Process>;
  /** inspectInheritedState() of the parent at the fork. */
  inherited: InheritedState;
  /** Called last, right before _exit, after every 'exit' listener. */
  atLastExit?: () => void;
}

/** The 'fork' start method's child: it runs the very object start() was called on. */
export function runForkChild(child: Process, parent: Process, inherited: InheritedState): never {
  // Read before process.pid changes: the parent's pid getter reads it.
  const parentName = parent.name;
  const parentPid = native.getppid();
  return runForkedChild({
    name: child.name,
    method: 'fork',
    inherited,
    become: () => {
      Process._becomeCurrentInChild(child, new ParentProcess(parentName, parentPid));
      return child;
    },
  });
}

export function runForkedChild(plan: ForkChildPlan): never {
  resetStartupMarks();
  markStartup('child');
  let code = 0;
  let name = plan.name;
  try {
    // Node reads its pid once at startup; the child has its own.
    Object.defineProperty(process, 'pid', {
      value: native.getpid(),
      writable: false,
      enumerable: true,
      configurable: true,
    });
    const { inherited } = plan;
    if (inherited.jsWork) dropInheritedJsWork();
    chooseMethod(plan.method);
    for (const event of inherited.listeners) process.removeAllListeners(event);
    installExitPath(() => name, plan);
    if (inherited.pipedStdio[0]) makeStdioSynchronous('stdout', 1, true);
    if (inherited.pipedStdio[1]) makeStdioSynchronous('stderr', 2, true);
    process.exitCode = undefined;
    const become = plan.become();
    const hookErrors = runAfterForkHooks('afterInChild');
    if (hookErrors.length > 0) throw hookErrors[0];
    code = isPromiseLike(become)
      ? runToCompletion(() => name, () => Promise.resolve(become).then((child) => {
          name = child.name;
          return runChild(child);
        }))
      : runToCompletion(() => name, () => runChild(become));
  } catch (error) {
    reportFailure(name, error);
    code = 1;
  }
  process.exit(code);
}

function runChild(child: Process): unknown {
  info('child process calling self.run()');
  markStartup('run');
  return child.run();
}

function runToCompletion(name: () => string, run: () => unknown): number {
  const result = run();
  if (!isPromiseLike(result)) return exitCodeAfterRun();
  let state: 'pending' | 'fulfilled' | 'rejected' = 'pending';
  let reason: unknown;
  Promise.resolve(result).then(
    () => {
      state = 'fulfilled';
    },
    (error: unknown) => {
      state = 'rejected';
      reason = error;
    },
  );
  for (;;) {
    drainJobQueues();
    if (state !== 'pending') break;
    if (!native.runLoopOnce()) {
      drainJobQueues();
      if (state !== 'pending') break;
      writeStderr(
        `Process ${name()}: run() returned a promise that can never settle ` +
          '(nothing is left that could wake the event loop)\n',
      );
      return UNSETTLED_EXIT_CODE;
    }
  }
  if (state === 'rejected') throw reason;
  return exitCodeAfterRun();
}

function exitCodeAfterRun(): number {
  markStartup('ran');
  const code = process.exitCode;
  return typeof code === 'number' ? code : 0;
}

// Callbacks the nested loop runs are nested inside the caller's callback
// scope, so Node leaves their next-ticks and microtasks to us.
function drainJobQueues(): void {
  native.performMicrotaskCheckpoint();
  (process as unknown as { _tickCallback(): void })._tickCallback();
}

function installExitPath(name: () => string, plan: ForkChildPlan): void {
  installExitHandler();
  // Node's own exit path tears down its platform and joins threads that do
  // not exist in a fork child; leave with _exit once 'exit' has been emitted.
  exitWithoutTeardown(() => {
    try {
      plan.atLastExit?.();
    } catch (error) {
      debug('at the last exit: %s', String(error));
    }
    writeStartupTrace(plan.method);
  });
  process.on('uncaughtException', (error) => {
    reportFailure(name(), error);
    process.exit(1);
  });
}

/**
 * Makes Node's last step of process.exit(), after the 'exit' listeners,
 * an _exit: `last` runs, then the process ends without Node's teardown.
 */
export function exitWithoutTeardown(last: () => void = () => {}): void {
  (process as unknown as { reallyExit(code?: number): never }).reallyExit = (code?: number) => {
    last();
    native.exit(typeof code === 'number' ? code : 0);
  };
}

export function reportFailure(name: string, error: unknown): void {
  writeStderr(`Process ${name}:\n${inspect(error)}\n`);
}

function writeStderr(text: string): void {
  try {
    native.writeAll(2, Buffer.from(text));
  } catch (error) {
    debug('cannot write to stderr: %s', String(error));
  }
}

const kSynchronous = Symbol('multiprocessing.synchronousStdio');

/**
 * A child exits with _exit, which would drop writes still queued in libuv
 * for a pipe or socket; and writes the parent had queued must not be
 * repeated here. So the child writes its stdout and stderr synchronously,
 * straight to the descriptor. Files and TTYs are synchronous in Node already.
 */
export function makeStdioSynchronous(name: 'stdout' | 'stderr', fd: number, piped = isPipeOrSocket(fd) === true): void {
  if (!piped) return;
  const descriptor = Object.getOwnPropertyDescriptor(process, name);
  const getter = descriptor?.get;
  if (getter === undefined) return;
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: descriptor?.enumerable ?? true,
    get() {
      const stream = getter.call(process) as NodeJS.WriteStream & { [kSynchronous]?: true };
      if (stream[kSynchronous] !== true) {
        stream[kSynchronous] = true;
        stream.write = synchronousWrite(fd, stream) as typeof stream.write;
      }
      return stream;
    },
  });
}

type WriteCallback = (error?: Error | null) => void;

function synchronousWrite(fd: number, stream: NodeJS.WriteStream) {
  return function write(
    chunk: string | Uint8Array,
    encoding?: BufferEncoding | WriteCallback,
    callback?: WriteCallback,
  ): boolean {
    if (typeof encoding === 'function') {
      callback = encoding;
      encoding = undefined;
    }
    let error: Error | null = null;
    try {
      const data = typeof chunk === 'string' ? Buffer.from(chunk, encoding ?? 'utf8') : chunk;
      native.writeAll(fd, data);
    } catch (caught) {
      error = caught as Error;
    }
    if (callback) process.nextTick(callback, error);
    else if (error) process.nextTick(() => stream.emit('error', error));
    return true;
  };
}
