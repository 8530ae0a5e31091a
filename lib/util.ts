// Small shared helpers: the package's diagnostics, argument checks.
import * as fs from 'node:fs';
import { debuglog } from 'node:util';

import { DEBUG, INFO, SUBDEBUG, WARNING, isLogging, logRecord } from './logging';

const nodeDebug = debuglog('multiprocessing');
// Node reads NODE_DEBUG once, at startup. Asked here, in the parent: a
// first call of debuglog's own functions in each fork child would compile
// them there again, for every child.
const nodeDebugging = nodeDebug.enabled;

// The package's own messages (Python's util.sub_debug, debug, info and
// its warnings): to NODE_DEBUG=multiprocessing, whatever
// their level, and to the logger (logging.ts) at theirs.
function report(level: number, msg: string, args: unknown[]): void {
  if (nodeDebugging) nodeDebug(msg, ...args);
  if (isLogging(level)) logRecord(level, msg, args);
}

export function subDebug(msg: string, ...args: unknown[]): void {
  report(SUBDEBUG, msg, args);
}

export function debug(msg: string, ...args: unknown[]): void {
  report(DEBUG, msg, args);
}

export function info(msg: string, ...args: unknown[]): void {
  report(INFO, msg, args);
}

export function warning(msg: string, ...args: unknown[]): void {
  report(WARNING, msg, args);
}

/**
 * Milliseconds on the monotonic clock, as performance.now() but without it:
 * Node loads perf_hooks on the first use of the `performance` global
 * (1.5-2.5 ms), which landed on the first poll or recv of every fresh child.
 */
let cryptoModule: typeof import('node:crypto') | undefined;

/** node:crypto, loaded at its first use: a spawn child that needs none of it does not pay its load (~4 ms). */
export function nodeCrypto(): typeof import('node:crypto') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  cryptoModule ??= require('node:crypto') as typeof import('node:crypto');
  return cryptoModule;
}

export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
}

/** setTimeout's limit (about 24.8 days); Node turns a longer delay into 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Validates an optional timeout in milliseconds (`name` is the argument,
 * or with a dot the option property, an error names). Null means for ever,
 * and so does a timeout longer than a timer can count; negative is 0.
 */
export function checkTimeout(value: unknown, name = 'timeout'): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`The "${name}" ${name.includes('.') ? 'property' : 'argument'} must be a number of milliseconds or null`);
  }
  return value > MAX_TIMER_MS ? null : Math.max(0, value);
}

/** Validates an optional AbortSignal; `name` as for checkTimeout(). */
export function checkSignal(value: unknown, name = 'signal'): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) {
    throw new TypeError(`The "${name}" ${name.includes('.') ? 'property' : 'option'} must be an AbortSignal`);
  }
  return value;
}

export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

// TypeScript compiles import() to require() in CommonJS output; ES modules
// need the real thing.
type Importer = (specifier: string) => Promise<unknown>;
/**
 * import() from a script Node compiled itself: the spawn child's code cache
 * (child/code_cache.ts) compiles this file with vm, where an import()
 * would find no loader, so it lends one made before.
 */
const importModule =
  ((globalThis as Record<symbol, unknown>)[Symbol.for('multiprocessing.importer')] as Importer | undefined) ??
  (new Function('specifier', 'return import(specifier)') as Importer);

export function dynamicImport(specifier: string): Promise<unknown> {
  return importModule(specifier);
}

/**
 * Whether `fd` is a pipe or a socket; null when it is not open. The bigint
 * form of fstat matters: the plain one leaves the descriptor's type in a
 * buffer that fs.realpathSync reads as if it were its own, and after a pipe
 * or a socket there Node resolves later imports without following symlinks
 * (nodejs/node#51142): a package installed through a symlink would load
 * twice.
 */
export function isPipeOrSocket(fd: number): boolean | null {
  let stat: fs.BigIntStats;
  try {
    stat = fs.fstatSync(fd, { bigint: true });
  } catch {
    return null;
  }
  return stat.isFIFO() || stat.isSocket();
}

/** What hold()/holdSync() return: releases once, at the end of a `using` or `await using` scope. */
export function releaseOnce(release: () => void): Disposable & AsyncDisposable {
  let held = true;
  const dispose = (): void => {
    if (!held) return;
    held = false;
    release();
  };
  return { [Symbol.dispose]: dispose, [Symbol.asyncDispose]: async () => dispose() };
}

/** 'SIGKILL' for 9: the name of a signal number, or the number itself when it has none. */
function signalName(signal: number): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const names = (require('node:os') as typeof import('node:os')).constants.signals as Record<string, number>;
  return Object.keys(names).find((name) => names[name] === signal) ?? String(signal);
}

/** How a process ended, from its exit code (negative: the signal): "exited with code 3", "was killed by signal SIGKILL". */
export function describeExit(code: number | null): string {
  return code !== null && code < 0 ? `was killed by signal ${signalName(-code)}` : `exited with code ${String(code)}`;
}
