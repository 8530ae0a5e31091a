// The package's logger (docs/API.md section 11; CPython's
// multiprocessing.util get_logger and log_to_stderr): one logger named
// 'multiprocessing', Python's levels, printf-style messages, handlers, and
// Python's stderr format `[LEVEL/ProcessName] message`. Loaded by util.ts,
// so by every process of the package: it imports nothing heavy.
import { format, inspect } from 'node:util';

import { currentProcessName } from './process/current';

/**
 * Level 0, no level: a logger left at NOTSET filters at WARNING
 * (Python's falls back on its root logger, which stands there).
 *
 * @category Logging
 * @example
 * ```ts
 * mp.getLogger().setLevel(mp.NOTSET);
 * ```
 */
export const NOTSET = 0;
/**
 * Level 5, below DEBUG: the package's most detailed messages.
 *
 * @category Logging
 * @example
 * ```ts
 * mp.getLogger().setLevel(mp.SUBDEBUG);
 * ```
 */
export const SUBDEBUG = 5;
/**
 * Level 10: diagnostic detail.
 *
 * @category Logging
 * @example
 * ```ts
 * mp.getLogger().setLevel(mp.DEBUG);
 * ```
 */
export const DEBUG = 10;
/**
 * Level 20: what the package does (processes started, joined,
 * terminated at exit).
 *
 * @category Logging
 * @example
 * ```ts
 * mp.getLogger().setLevel(mp.INFO);
 * ```
 */
export const INFO = 20;
/**
 * Level 25, between INFO and WARNING.
 *
 * @category Logging
 * @example
 * ```ts
 * mp.getLogger().setLevel(mp.SUBWARNING);
 * ```
 */
export const SUBWARNING = 25;
/**
 * Level 30: something unexpected that the program goes on after; the
 * effective level while none is set.
 *
 * @category Logging
 * @example
 * ```ts
 * mp.getLogger().setLevel(mp.WARNING);
 * ```
 */
export const WARNING = 30;
/**
 * Level 40: a failure.
 *
 * @category Logging
 * @example
 * ```ts
 * mp.getLogger().setLevel(mp.ERROR);
 * ```
 */
export const ERROR = 40;
/**
 * Level 50: a failure the program may not survive.
 *
 * @category Logging
 * @example
 * ```ts
 * mp.getLogger().setLevel(mp.CRITICAL);
 * ```
 */
export const CRITICAL = 50;

/**
 * The names of the levels, which setLevel() and logToStderr() also take.
 *
 * @category Logging
 * @example
 * ```ts
 * const level: mp.LogLevelName = 'DEBUG';
 * mp.logToStderr(level);
 * ```
 */
export type LogLevelName = 'NOTSET' | 'SUBDEBUG' | 'DEBUG' | 'INFO' | 'SUBWARNING' | 'WARNING' | 'ERROR' | 'CRITICAL';

const LEVELS: Readonly<Record<LogLevelName, number>> = {
  NOTSET,
  SUBDEBUG,
  DEBUG,
  INFO,
  SUBWARNING,
  WARNING,
  ERROR,
  CRITICAL,
};
const LEVEL_NAMES = new Map<number, string>(Object.entries(LEVELS).map(([name, level]) => [level, name]));

/** What a logger left at NOTSET goes by: Python's falls back on the root logger, which stands at WARNING. */
const FALLBACK_LEVEL = WARNING;

/**
 * One message as handlers receive it (a frozen object).
 *
 * @category Logging
 * @example
 * ```ts
 * mp.getLogger().addHandler((record: mp.LogRecord) => {
 *   const when = new Date(record.time).toISOString();
 *   console.log(`${when} ${record.processName}[${record.pid}] ${record.levelName}: ${record.message}`);
 * });
 * ```
 */
export interface LogRecord {
  /** The logger's name: 'multiprocessing'. */
  readonly name: string;
  /** The message's level number (`DEBUG` is 10, …). */
  readonly level: number;
  /** 'DEBUG', 'INFO', …; 'Level 15' for a level without a name, as Python's. */
  readonly levelName: string;
  /** The message with its arguments put in. */
  readonly message: string;
  /** currentProcess().name when the record was made. */
  readonly processName: string;
  /** The process id of the process that logged. */
  readonly pid: number;
  /** When the record was made, in milliseconds since the epoch. */
  readonly time: number;
}

/**
 * What receives records: a function given each record, or an object whose
 * `handle()` is. A handler that throws is reported on stderr, never thrown
 * into the code that logged.
 *
 * @category Logging
 * @example
 * ```ts
 * const lines: string[] = [];
 * const handler: mp.LogHandler = (record) => lines.push(`${record.levelName}: ${record.message}`);
 * mp.getLogger().addHandler(handler);
 * ```
 */
export type LogHandler =
  | ((record: LogRecord) => void)
  | {
      /** Receives each record. */
      handle(record: LogRecord): void;
    };

export function levelName(level: number): string {
  return LEVEL_NAMES.get(level) ?? `Level ${level}`;
}

// The lowest level handled now; nothing while there is no handler, so a
// message of the package's own costs one comparison when logging is off.
let threshold = Infinity;

/** Whether a record at `level` would reach a handler now. */
export function isLogging(level: number): boolean {
  return level >= threshold;
}

// Made once, by Logger's static block (its constructor is private).
let logger: Logger;

/**
 * The package's one logger, named `'multiprocessing'`, from
 * {@link getLogger} (Python's `multiprocessing.get_logger()`): levels as
 * Python's numbers, printf-style messages, and handlers. Records reach the
 * handlers at or above the effective level; with no handler, logging costs
 * one comparison. Children of every start method start with their parent's
 * level and its stderr logging.
 *
 * @category Logging
 * @example
 * ```ts
 * const logger: mp.Logger = mp.getLogger();
 * if (logger.isEnabledFor(mp.DEBUG)) logger.debug('state: %O', expensiveSnapshot());
 * ```
 */
export class Logger {
  static {
    logger = new Logger();
  }

  /** The logger's name: `'multiprocessing'`. */
  readonly name = 'multiprocessing';
  #level = NOTSET;
  #handlers: readonly LogHandler[] = Object.freeze([]);

  private constructor() {}

  /** The level set with setLevel(); NOTSET (0) until then. */
  get level(): number {
    return this.#level;
  }

  /** The handlers added, in order (a frozen array). */
  get handlers(): readonly LogHandler[] {
    return this.#handlers;
  }

  /**
   * Sets the level: a level number (any integer from 0) or one of the names
   * (`'DEBUG'`, `'INFO'`, …).
   *
   * @throws RangeError for an unknown name or a negative or fractional number;
   * TypeError for anything else.
   */
  setLevel(level: number | LogLevelName): void {
    this.#level = checkLevel(level, 'level');
    this.#update();
  }

  /** The level records are filtered at: this logger's, or WARNING while it is NOTSET (as Python's). */
  getEffectiveLevel(): number {
    return this.#level === NOTSET ? FALLBACK_LEVEL : this.#level;
  }

  /**
   * Whether a record at `level` passes the effective level (whether or not a
   * handler is there to take it).
   *
   * @throws TypeError for a level that is not an integer.
   */
  isEnabledFor(level: number): boolean {
    return checkRecordLevel(level) >= this.getEffectiveLevel();
  }

  /**
   * Adds `handler` unless it is there already.
   *
   * @throws TypeError for anything but a function or an object with a
   * `handle()` method.
   */
  addHandler(handler: LogHandler): void {
    const isHandler =
      typeof handler === 'function' ||
      (handler !== null && typeof handler === 'object' && typeof (handler as { handle?: unknown }).handle === 'function');
    if (!isHandler) {
      throw new TypeError('The "handler" argument must be a function or an object with a handle() method');
    }
    if (this.#handlers.includes(handler)) return;
    this.#handlers = Object.freeze([...this.#handlers, handler]);
    this.#update();
  }

  /** Removes `handler`; nothing if it is not there. */
  removeHandler(handler: LogHandler): void {
    if (!this.#handlers.includes(handler)) return;
    this.#handlers = Object.freeze(this.#handlers.filter((h) => h !== handler));
    this.#update();
  }

  /**
   * Logs `msg` at DEBUG: Python's `%s`, `%d` and `%r` (and util.format's
   * other directives) are filled from `args`; without arguments the message
   * is taken as it is.
   */
  debug(msg: unknown, ...args: unknown[]): void {
    if (DEBUG >= threshold) emit(DEBUG, msg, args);
  }

  /**
   * Logs `msg` at INFO: Python's `%s`, `%d` and `%r` (and util.format's
   * other directives) are filled from `args`; without arguments the message
   * is taken as it is.
   */
  info(msg: unknown, ...args: unknown[]): void {
    if (INFO >= threshold) emit(INFO, msg, args);
  }

  /**
   * Logs `msg` at WARNING: Python's `%s`, `%d` and `%r` (and util.format's
   * other directives) are filled from `args`; without arguments the message
   * is taken as it is.
   */
  warning(msg: unknown, ...args: unknown[]): void {
    if (WARNING >= threshold) emit(WARNING, msg, args);
  }

  /**
   * Logs `msg` at ERROR: Python's `%s`, `%d` and `%r` (and util.format's
   * other directives) are filled from `args`; without arguments the message
   * is taken as it is.
   */
  error(msg: unknown, ...args: unknown[]): void {
    if (ERROR >= threshold) emit(ERROR, msg, args);
  }

  /**
   * Logs `msg` at CRITICAL: Python's `%s`, `%d` and `%r` (and util.format's
   * other directives) are filled from `args`; without arguments the message
   * is taken as it is.
   */
  critical(msg: unknown, ...args: unknown[]): void {
    if (CRITICAL >= threshold) emit(CRITICAL, msg, args);
  }

  /**
   * Logs `msg` at `level` (an integer): Python's `%s`, `%d` and `%r` (and
   * util.format's other directives) are filled from `args`; without
   * arguments the message is taken as it is.
   *
   * @throws TypeError for a level that is not an integer.
   */
  log(level: number, msg: unknown, ...args: unknown[]): void {
    if (checkRecordLevel(level) >= threshold) emit(level, msg, args);
  }

  #update(): void {
    threshold = this.#handlers.length === 0 ? Infinity : this.getEffectiveLevel();
  }
}

/**
 * The package's logger (Python's `multiprocessing.get_logger()`). It is
 * silent until it has a handler: add one, or call {@link logToStderr}. The
 * package's own messages also go to `NODE_DEBUG=multiprocessing`.
 *
 * @category Logging
 * @example
 * ```ts
 * const logger = mp.getLogger();
 * logger.setLevel('INFO');
 * logger.addHandler((record) => myLog.write(`${record.processName}: ${record.message}`));
 * logger.info('starting %d workers', 4);
 * ```
 */
export function getLogger(): Logger {
  return logger;
}

/** `[LEVEL/ProcessName] message`, Python's DEFAULT_LOGGING_FORMAT, and a newline. */
export function formatRecord(record: LogRecord): string {
  return `[${record.levelName}/${record.processName}] ${record.message}\n`;
}

function stderrHandler(record: LogRecord): void {
  process.stderr.write(formatRecord(record));
}

/**
 * Makes the logger print to stderr in Python's format,
 * `[LEVEL/ProcessName] message` (the handler is added once however often
 * this is called) and, given a level, sets it. Returns the logger (Python's
 * `multiprocessing.log_to_stderr()`). Children started afterwards log to
 * their stderr too.
 *
 * @throws RangeError or TypeError for a level setLevel() refuses.
 * @category Logging
 * @example
 * ```ts
 * mp.logToStderr('INFO');
 * // [INFO/MainProcess] ... lines on stderr as processes start and stop
 * ```
 */
export function logToStderr(level?: number | LogLevelName | null): Logger {
  const checked = level === undefined || level === null ? null : checkLevel(level, 'level');
  logger.addHandler(stderrHandler);
  if (checked !== null) logger.setLevel(checked);
  return logger;
}

/** What a child starts with (Python's preparation data: log_to_stderr and the level). */
export interface LoggingSettings {
  level: number;
  toStderr: boolean;
}

export function loggingSettings(): LoggingSettings {
  return { level: logger.level, toStderr: logger.handlers.includes(stderrHandler) };
}

export function adoptLoggingSettings(settings: LoggingSettings): void {
  if (settings.toStderr) logger.addHandler(stderrHandler);
  logger.setLevel(settings.level);
}

/** The package's own messages (util.ts): the level was checked by the caller's isLogging(). */
export function logRecord(level: number, msg: string, args: readonly unknown[]): void {
  emit(level, msg, args);
}

function emit(level: number, msg: unknown, args: readonly unknown[]): void {
  const record: LogRecord = Object.freeze({
    name: logger.name,
    level,
    levelName: levelName(level),
    message: formatMessage(msg, args),
    processName: currentProcessName(),
    pid: process.pid,
    time: Date.now(),
  });
  for (const handler of logger.handlers) {
    try {
      if (typeof handler === 'function') handler(record);
      else handler.handle(record);
    } catch (error) {
      reportHandlerError(error, record);
    }
  }
}

/**
 * Python's `msg % args`: without arguments the message is left as it is;
 * with them, util.format's %s, %d, %i, %f, %j, %o, %O and %%, and Python's
 * %r as %O (util.inspect, Python's repr).
 */
function formatMessage(msg: unknown, args: readonly unknown[]): string {
  const text = typeof msg === 'string' ? msg : inspect(msg);
  if (args.length === 0) return text;
  return format(text.replace(/%[%r]/g, (spec) => (spec === '%r' ? '%O' : spec)), ...args);
}

// As Python's Handler.handleError: a failing handler is reported, never
// thrown into the code that logged (which may be an exit path).
function reportHandlerError(error: unknown, record: LogRecord): void {
  try {
    process.stderr.write(`--- Logging error ---\n${inspect(error)}\nMessage: ${JSON.stringify(record.message)}\n`);
  } catch {
    // stderr is gone: nowhere left to report to
  }
}

function checkLevel(level: unknown, parameter: string): number {
  if (typeof level === 'string') {
    if (!Object.hasOwn(LEVELS, level)) {
      throw new RangeError(
        `The "${parameter}" argument must be a level number or one of ${Object.keys(LEVELS).map((n) => `'${n}'`).join(', ')}; ` +
          `received '${level}'`,
      );
    }
    return LEVELS[level as LogLevelName];
  }
  if (typeof level !== 'number') {
    throw new TypeError(`The "${parameter}" argument must be a number or a level name; received ${describe(level)}`);
  }
  if (!Number.isInteger(level) || level < 0) {
    throw new RangeError(`The "${parameter}" argument must be an integer from 0; received ${level}`);
  }
  return level;
}

function checkRecordLevel(level: unknown): number {
  if (typeof level !== 'number' || !Number.isInteger(level)) {
    throw new TypeError(`The "level" argument must be an integer; received ${describe(level)}`);
  }
  return level;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}
