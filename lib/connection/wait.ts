// mp.wait(): which of several connections and process sentinels are ready
// (CPython's connection.wait), without blocking the event loop.
import { native } from '../native';
import { checkTimeout } from '../util';
import { Connection } from './connection';
import { whenReady } from './readiness';

export type Waitable = Connection | number;

function descriptorOf(object: Waitable, index: number): number {
  if (object instanceof Connection) return object.fileno();
  if (typeof object === 'number' && Number.isInteger(object) && object >= 0) return object;
  throw new TypeError(`The "objects[${index}]" argument must be a Connection or a descriptor (a process sentinel)`);
}

/**
 * Resolves with the objects that are ready (a message or end-of-file to
 * read; a process that ended) once at least one is, or with [] when
 * timeoutMs passes first (undefined or null: wait for ever).
 */
export async function wait(objects: Waitable[], timeoutMs?: number | null): Promise<Waitable[]> {
  if (!Array.isArray(objects)) throw new TypeError('The "objects" argument must be an array');
  const ms = checkTimeout(timeoutMs, 'timeoutMs');
  const fds = objects.map(descriptorOf);
  const readyNow = (): Waitable[] => {
    const ready = new Set(native.pollFds(fds, 0));
    return objects.filter((_, i) => ready.has(fds[i]));
  };
  const first = readyNow();
  if (first.length > 0 || objects.length === 0 || ms === 0) return first;
  const stop = new AbortController();
  try {
    // The losers are aborted below; their rejections are expected.
    await Promise.race([...new Set(fds)].map((fd) => whenReady(fd, 'read', ms, stop.signal).catch(() => false)));
  } finally {
    stop.abort();
  }
  return readyNow();
}
