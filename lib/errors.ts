// The package's exception classes (docs/API.md section 10), Python's names.

/** @inline What a failed system call left on an error, as Node's system errors carry it. */
export interface OsErrorInfo {
  /** The OS error number. */
  errno?: number;
  /** The error's code, such as `'EPIPE'`. */
  code?: string;
  /** The system call that failed. */
  syscall?: string;
}

/**
 * Base class of this package's errors about processes (Python's
 * `ProcessError`): an object used in the wrong state (a process started
 * twice, a closed queue or pool, a lock released too often), a limit
 * exceeded (`maxMessageSize`), and failed system calls, which keep `errno`,
 * `code` and `syscall` as Node's system errors do. {@link BufferTooShort},
 * {@link AuthenticationError}, {@link TimeoutError}, {@link RemoteError} and
 * {@link WorkerLostError} extend it. `name` is the class name.
 *
 * @category Errors
 * @example
 * ```ts
 * const p = new mp.Process({ target: work }); // work: an exported function
 * p.start();
 * try {
 *   p.start();
 * } catch (error) {
 *   if (error instanceof mp.ProcessError) console.log(error.message); // cannot start a process twice
 * }
 * ```
 */
export class ProcessError extends Error {
  /** The OS error number, when a system call failed. */
  errno?: number;
  /** The error code of a failed system call, such as `'EPIPE'`. */
  code?: string;
  /** The system call that failed. */
  syscall?: string;

  /**
   * An error saying `message`; `name` is the class name.
   *
   * @param message - What went wrong.
   * @param options - `cause`, as for Error; `errno`, `code` and `syscall` to keep.
   */
  constructor(message?: string, options?: ErrorOptions & OsErrorInfo) {
    super(message, options);
    this.name = new.target.name;
    if (options?.errno !== undefined) this.errno = options.errno;
    if (options?.code !== undefined) this.code = options.code;
    if (options?.syscall !== undefined) this.syscall = options.syscall;
  }
}

/**
 * A message longer than the reader allows: `maxLength` of
 * `recvBytes()`/`recvBytesSync()`, which leaves the connection unreadable, or
 * the buffer of `recvBytesInto()`, where the message is consumed and kept on
 * the error as `received`.
 *
 * @category Errors
 * @example
 * ```ts
 * const [a, b] = mp.Pipe();
 * b.sendBytes(Buffer.alloc(100));
 * await a.recvBytes(10).catch((error) => console.log(error instanceof mp.BufferTooShort)); // true
 * ```
 */
export class BufferTooShort extends ProcessError {}
/**
 * The authkey handshake failed (Python's HMAC challenge): a wrong key on
 * either side of a {@link connection.Listener} and {@link connection.Client},
 * or of a manager's connection; both sides get it, and no callable is reached.
 *
 * @category Errors
 * @example
 * ```ts
 * const listener = new mp.connection.Listener(null, { authkey: 'right' });
 * listener.accept().catch(() => {});
 * await mp.connection.Client(listener.address, { authkey: 'wrong' })
 *   .catch((error) => console.log(error instanceof mp.AuthenticationError)); // true
 * ```
 */
export class AuthenticationError extends ProcessError {}
/**
 * A wait that ran out of time where the API rejects rather than resolving:
 * {@link AsyncResult.get} not ready in time, and a Pool task still running
 * `timeout` milliseconds after it started (its worker is replaced).
 *
 * @category Errors
 * @example
 * ```ts
 * await pool.apply(slowTask, [], { timeout: 1000 }) // slowTask: an exported function
 *   .catch((error) => console.log(error instanceof mp.TimeoutError));
 * ```
 */
export class TimeoutError extends ProcessError {}
/**
 * An error that happened in another process. An error thrown by a Pool task
 * or a manager's referent is rethrown with its own `name` and `message`, and
 * `cause` a RemoteError whose `stack` is the remote stack; a failure of a
 * manager's server itself (a method not exposed, a server gone) is a
 * RemoteError.
 *
 * @category Errors
 * @example
 * ```ts
 * try {
 *   await pool.apply(failingTask); // failingTask: an exported function that throws
 * } catch (error) {
 *   const remote = (error as Error).cause;
 *   if (remote instanceof mp.RemoteError) console.log(remote.stack); // the worker's stack
 * }
 * ```
 */
export class RemoteError extends ProcessError {
  /** The host name of the machine the error came from (a cluster worker's); undefined for this machine's processes. */
  host?: string;
  /** The process id on that host: a cluster worker's (`multiprocessing-worker`). */
  pid?: number;
}
/**
 * A Pool worker died (killed, crashed, `process.exit()`) while running the
 * task: that task rejects with it, naming the exit code or signal; the pool
 * replaces the worker and every other task goes on.
 *
 * @category Errors
 * @example
 * ```ts
 * export function crash(): never { process.exit(3); }
 * // ...
 * await pool.apply(crash).catch((error) => console.log(error instanceof mp.WorkerLostError)); // true
 * ```
 */
export class WorkerLostError extends ProcessError {}

/** An Error whose `name` is its class name. */
class NamedError extends Error {
  /**
   * An error saying `message`; `name` is the class name.
   *
   * @param message - What went wrong.
   * @param options - `cause`, as for Error.
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A read from a connection whose other end is closed, with nothing left to
 * read: `recv()`, `recvBytes()` and their sync twins.
 *
 * @category Errors
 * @example
 * ```ts
 * const [a, b] = mp.Pipe();
 * b.close();
 * await a.recv().catch((error) => console.log(error instanceof mp.EOFError)); // true
 * ```
 */
export class EOFError extends NamedError {}
/**
 * Nothing to get from a queue: `get()` with `block: false` or after its
 * timeout, `getNowait()`, `getSync()` likewise (Python's `queue.Empty`).
 *
 * @category Errors
 * @example
 * ```ts
 * const q = new mp.Queue();
 * try {
 *   q.getNowait();
 * } catch (error) {
 *   if (error instanceof mp.Empty) console.log('nothing yet');
 * }
 * ```
 */
export class Empty extends NamedError {}
/**
 * No free slot in a bounded queue: `put()` with `block: false` or after its
 * timeout, `putNowait()` (Python's `queue.Full`).
 *
 * @category Errors
 * @example
 * ```ts
 * const q = new mp.Queue(1);
 * q.putNowait('a');
 * await q.put('b', { timeout: 100 }).catch((error) => console.log(error instanceof mp.Full)); // true
 * ```
 */
export class Full extends NamedError {}
/**
 * A {@link Barrier} that is broken (abort(), a wait that timed out, an
 * action that threw) or was reset while parties waited: every `wait()`
 * rejects (or throws) with it until `reset()`.
 *
 * @category Errors
 * @example
 * ```ts
 * const barrier = new mp.Barrier(2);
 * barrier.abort();
 * await barrier.wait().catch((error) => console.log(error instanceof mp.BrokenBarrierError)); // true
 * ```
 */
export class BrokenBarrierError extends NamedError {}
/**
 * A value cannot cross a process boundary. Thrown in the sender, naming the
 * path to the offending value (`args[1].conn.socket`): something structured
 * serialization cannot copy and the package does not know; with `'spawn'`
 * and `'forkserver'`, a function or class that is not exported from its
 * module. Also thrown by a receiver for a reference that came over a
 * connection not authenticated with an authkey (data only).
 *
 * @category Errors
 * @example
 * ```ts
 * const [a] = mp.Pipe();
 * try {
 *   a.send({ socket: new (require('node:net').Socket)() });
 * } catch (error) {
 *   if (error instanceof mp.SerializationError) console.log(error.message); // cannot send obj.socket (an instance of Socket) …
 * }
 * ```
 */
export class SerializationError extends NamedError {}

/** Wraps an errno error from the native layer, keeping errno, code and syscall. */
export function processErrorFrom(error: unknown, what: string): ProcessError {
  const e = error as Error & OsErrorInfo;
  return new ProcessError(`${what}: ${e.message}`, {
    cause: error,
    errno: e.errno,
    code: e.code,
    syscall: e.syscall,
  });
}
