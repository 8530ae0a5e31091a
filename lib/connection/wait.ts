// mp.wait(): which of several connections and process sentinels are ready
// (CPython's connection.wait), without blocking the event loop.
import { ProcessError } from '../errors';
import { native } from '../native';
import { checkTimeout, monotonicMs } from '../util';
import { Connection, readyNow, whenReadable } from './connection';
import { whenReady } from './readiness';

/**
 * What {@link wait} watches: a {@link Connection}, or a process sentinel
 * ({@link Process.sentinel}, a descriptor readable once the process ends).
 *
 * @category Connections
 * @example
 * ```ts
 * const watched: mp.Waitable[] = [conn, worker.sentinel];
 * for (const ready of await mp.wait(watched, 1000)) {
 *   if (ready === conn) console.log(await conn.recv());
 *   else console.log('the worker exited');
 * }
 * ```
 */
export type Waitable = Connection | number;

function checkWaitable(object: Waitable, index: number): Waitable {
  if (object instanceof Connection) {
    if (object.closed) throw new ProcessError('handle is closed');
    return object;
  }
  if (typeof object === 'number' && Number.isInteger(object) && object >= 0) return object;
  throw new TypeError(`The "objects[${index}]" argument must be a Connection or a descriptor (a process sentinel)`);
}

/**
 * Waits until at least one of `objects` is ready, without blocking the event
 * loop (Python's `multiprocessing.connection.wait`): a {@link Connection}
 * with a message or end-of-file to read, or a {@link Process.sentinel} whose
 * process has ended. Resolves with the ready ones, in the order given, or
 * with `[]` once `timeoutMs` passes (undefined or null: no limit; 0: look
 * without waiting).
 *
 * @throws {@link ProcessError} (as a rejection) for a closed connection;
 * TypeError for anything but connections and descriptors.
 * @category Connections
 * @example
 * ```ts
 * const ready = await mp.wait([conn, worker.sentinel], 1000);
 * if (ready.includes(conn)) console.log(await conn.recv());
 * if (ready.includes(worker.sentinel)) console.log('the worker exited');
 * ```
 */
export async function wait(objects: Waitable[], timeoutMs?: number | null): Promise<Waitable[]> {
  if (!Array.isArray(objects)) throw new TypeError('The "objects" argument must be an array');
  const ms = checkTimeout(timeoutMs, 'timeoutMs');
  objects.forEach(checkWaitable);
  const sentinels = objects.filter((object): object is number => typeof object === 'number');
  const ready = (): Waitable[] => {
    const ended = new Set(sentinels.length === 0 ? [] : native.pollFds(sentinels, 0));
    return objects.filter((object) => (typeof object === 'number' ? ended.has(object) : readyNow(object)));
  };
  const first = ready();
  if (first.length > 0 || objects.length === 0 || ms === 0) return first;
  const connections = [...new Set(objects.filter((o): o is Connection => o instanceof Connection))];
  const end = ms === null ? null : monotonicMs() + ms;
  for (;;) {
    const left = end === null ? null : Math.max(0, end - monotonicMs());
    if (left === 0) return [];
    const stop = new AbortController();
    try {
      // The losers are aborted below; their rejections are expected.
      await Promise.race([
        ...[...new Set(sentinels)].map((fd) => whenReady(fd, 'read', left, stop.signal).catch(() => false)),
        ...connections.map((conn) => whenReadable(conn, left, stop.signal).catch(() => false)),
      ]);
    } finally {
      stop.abort();
    }
    // A connection's wake may have been a doorbell only (ring.ts): then wait on.
    const now = ready();
    if (now.length > 0) return now;
  }
}
