// The package's exception classes (docs/API.md section 10), Python's names.

export interface OsErrorInfo {
  errno?: number;
  code?: string;
  syscall?: string;
}

/** Base class of this package's errors about processes (Python's ProcessError). */
export class ProcessError extends Error {
  errno?: number;
  code?: string;
  syscall?: string;

  constructor(message?: string, options?: ErrorOptions & OsErrorInfo) {
    super(message, options);
    this.name = new.target.name;
    if (options?.errno !== undefined) this.errno = options.errno;
    if (options?.code !== undefined) this.code = options.code;
    if (options?.syscall !== undefined) this.syscall = options.syscall;
  }
}

export class BufferTooShort extends ProcessError {}
export class AuthenticationError extends ProcessError {}
export class TimeoutError extends ProcessError {}
export class RemoteError extends ProcessError {}
export class WorkerLostError extends ProcessError {}

class NamedError extends Error {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class EOFError extends NamedError {}
export class Empty extends NamedError {}
export class Full extends NamedError {}
export class BrokenBarrierError extends NamedError {}
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
