// Who is calling a referent's method in the manager's server: the
// connection a request came on (a client process), or the server itself.
// RLock and Condition own by caller, as Python's server threads own them
// per connection; a caller's waits end when its connection closes.

export interface Caller {
  /** 0 for the server's own calls, else the connection's number. */
  readonly id: number;
  /** Aborted when the caller's connection closes. */
  readonly signal: AbortSignal | undefined;
}

const serverItself: Caller = { id: 0, signal: undefined };
let current: Caller = serverItself;

/** The caller of the method now running (read it before the method's first await). */
export function callerNow(): Caller {
  return current;
}

export function callAs<T>(caller: Caller, work: () => T): T {
  const previous = current;
  current = caller;
  try {
    return work();
  } finally {
    current = previous;
  }
}
