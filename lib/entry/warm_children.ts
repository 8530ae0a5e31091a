// The forkserver's warm children (Android's zygote keeps such a pool of
// "unspecialized app processes"): forked ahead from the preloaded server,
// each does at once what every child does before it knows who it is, then
// blocks on a socketpair until the server hands it a request. Learned
// prefaulting (native/fork/prefault.h) lets later ones copy, while idle, the
// pages the first ones wrote. docs/ARCHITECTURE.md, "Forkserver".
import { native } from '../native';
import { debug } from '../util';
import { inspectInheritedState, runForkedChild } from '../child/fork_child';
import { closeServerDescriptors, type ServerState, type WarmChild } from './forkserver_state';
import { becomeChild, type Preparation, readPreparation } from '../child/preparation';
import { markStartup } from '../child/startup_trace';
import { MAX_REQUEST_FDS, WARM_FLAG_LEARN, WARM_HEADER_BYTES } from '../process/forkserver_wire';

const SIGKILL = 9;
/** After a warm fork failed (no memory, process limit), the pool rests this long before it refills. */
export const REFILL_PAUSE_MS = 1000;
/**
 * Learned prefaulting (native/fork/prefault.h): the first children handed out
 * report the pages they wrote; warm children forked afterwards copy those
 * pages while idle, off the critical path of a start.
 */
const LEARNING_CHILDREN = 3;
/** The learned set is capped: beyond this a warm child would copy more than any start writes. */
const MAX_HOT_BYTES = 32 << 20;
/**
 * A report holds at most this many ranges (16 bytes each): it must fit the
 * socket's buffer whole, since the server reads it only once the child has
 * exited; the learned set needs no more.
 */
const MAX_REPORTED_RANGES = 4096;
/**
 * A request larger than this goes to a child forked for it, not to a warm
 * one: written to a fresh socketpair it fits the buffer whole, so a warm
 * child that is slow to read (stopped, say) cannot hold the server up.
 */
const MAX_WARM_REQUEST = 64 << 10;
let learnersLeft = LEARNING_CHILDREN;
let hotPages: Float64Array | null = null;

/**
 * Hands a request to the oldest idle warm child that takes it; returns its
 * pid, or null when none can (none idle, or the request is too big for one).
 */
export function handToWarmChild(state: ServerState, data: Buffer, fds: number[], connection: number): number | null {
  while (state.warm.length > 0 && data.length <= MAX_WARM_REQUEST) {
    const child = state.warm.shift() as WarmChild;
    const learn = learnersLeft > 0;
    if (assignJob(child, data, fds, learn)) {
      if (learn) learnersLeft--;
      state.children.set(child.sentinel, { pid: child.pid, connection, report: learn ? child.channel : undefined });
      return child.pid;
    }
    native.closeFd(child.channel);
    discardWarmChild(child);
  }
  return null;
}

/**
 * Forks one warm child: it does now what every child does before it knows
 * who it is (its pid, Node's queues, listeners, exit path, stdio), then
 * blocks until the server hands it a request. False if fork() failed.
 */
export function forkWarmChild(state: ServerState, script: string, importedMain: string | null): boolean {
  const serverPid = process.pid;
  const [channel, childEnd] = native.socketPair();
  const inherited = inspectInheritedState();
  let result;
  try {
    result = native.fork({ dieWithParent: false });
  } catch (error) {
    debug('forkserver: cannot fork a warm child: %s', String(error));
    native.closeFd(channel);
    native.closeFd(childEnd);
    return false;
  }
  if (result.pid !== 0) {
    native.closeFd(childEnd);
    state.warm.push({ pid: result.pid, sentinel: result.sentinel as number, channel });
    return true;
  }
  closeServerDescriptors(state, [channel]);
  let reportTo: number | null = null;
  return runForkedChild({
    name: 'ForkServerWarmChild',
    method: 'forkserver',
    inherited,
    become: () => {
      if (hotPages !== null) native.populate(hotPages);
      const job = awaitJob(childEnd, serverPid);
      if (job.learn) reportTo = childEnd;
      else native.closeFd(childEnd);
      return becomeChild(job.preparation, job.fds, script, importedMain);
    },
    atLastExit: () => {
      if (reportTo !== null) reportHotPages(reportTo);
    },
  });
}

/**
 * Sends a request to an idle warm child: [u32 length][u32 flags][preparation],
 * the descriptors with the first byte. The channel stays open only for a
 * child asked to report the pages it wrote.
 */
function assignJob(child: WarmChild, data: Buffer, fds: number[], learn: boolean): boolean {
  const frame = Buffer.allocUnsafe(WARM_HEADER_BYTES + data.length);
  frame.writeUInt32LE(data.length, 0);
  frame.writeUInt32LE(learn ? WARM_FLAG_LEARN : 0, 4);
  data.copy(frame, WARM_HEADER_BYTES);
  try {
    native.sendMessage(child.channel, frame, fds);
  } catch (error) {
    debug('forkserver: warm child %d cannot take a request: %s', child.pid, String(error));
    return false;
  }
  if (!learn) native.closeFd(child.channel);
  return true;
}

/** In a child asked to learn, right before _exit: [u32 byte length][Float64Array of page ranges]. */
function reportHotPages(channel: number): void {
  const all = native.hotPages();
  const ranges = all.subarray(0, Math.min(all.length, MAX_REPORTED_RANGES * 2));
  const frame = Buffer.allocUnsafe(4 + ranges.byteLength);
  frame.writeUInt32LE(ranges.byteLength, 0);
  Buffer.from(ranges.buffer, ranges.byteOffset, ranges.byteLength).copy(frame, 4);
  // One non-blocking write: the server reads only after this process has
  // exited, so a write that had to wait would wait for ever.
  native.setNonBlocking(channel);
  native.sendSome(channel, frame, 0, frame.length, null);
}

/** In the server, once a learning child has ended: merges what it reported into hotPages. */
export function learnFrom(channel: number): void {
  try {
    if (native.pollFds([channel], 0).length === 0) return;
    const header = native.readExact(channel, 4);
    if (header.length < 4) return;
    const length = header.readUInt32LE(0);
    if (length > MAX_REPORTED_RANGES * 16 || length % 16 !== 0) return;
    const body = native.readExact(channel, length);
    if (body.length !== length) return; // cut short: the child could not write it whole
    hotPages = mergeRanges(hotPages, new Float64Array(body.buffer.slice(body.byteOffset, body.byteOffset + length)));
  } catch (error) {
    debug('forkserver: no page report: %s', String(error));
  } finally {
    native.closeFd(channel);
  }
}

/** The union of two sets of [start, end) ranges, sorted, capped at MAX_HOT_BYTES. */
function mergeRanges(a: Float64Array | null, b: Float64Array): Float64Array {
  const pairs: Array<[number, number]> = [];
  for (const ranges of a === null ? [b] : [a, b]) {
    for (let i = 0; i + 1 < ranges.length; i += 2) pairs.push([ranges[i], ranges[i + 1]]);
  }
  pairs.sort((x, y) => x[0] - y[0]);
  const merged: number[] = [];
  let bytes = 0;
  for (const [start, end] of pairs) {
    const last = merged.length - 1;
    if (last > 0 && start <= merged[last]) {
      if (end > merged[last]) {
        bytes += end - merged[last];
        merged[last] = end;
      }
    } else {
      merged.push(start, end);
      bytes += end - start;
    }
    if (bytes >= MAX_HOT_BYTES) break;
  }
  return Float64Array.from(merged);
}

/** Ends a warm child that is of no use (its channel already closed). */
export function discardWarmChild(child: WarmChild): void {
  native.kill(child.pid, SIGKILL);
  native.waitpid(child.pid, false);
  native.closeFd(child.sentinel);
}

/** In a warm child: blocks until the server sends a request; exits quietly when the server is gone instead. */
function awaitJob(channel: number, serverPid: number): { preparation: Preparation; fds: number[]; learn: boolean } {
  const head = native.recvMessage(channel, WARM_HEADER_BYTES, MAX_REQUEST_FDS);
  if (head.data.length === 0) native.exit(0);
  const header = head.data.length === WARM_HEADER_BYTES ? head.data : Buffer.concat([head.data, native.readExact(channel, WARM_HEADER_BYTES - head.data.length)]);
  const length = header.length === WARM_HEADER_BYTES ? header.readUInt32LE(0) : -1;
  const data = length >= 0 ? native.readExact(channel, length) : Buffer.alloc(0);
  if (length < 0 || data.length !== length) native.exit(0); // the server died mid-request
  markStartup('assigned');
  const preparation = readPreparation(data);
  if (preparation.daemon) {
    // As a child forked for a daemonic request: it dies with the server.
    native.setParentDeathSignal(SIGKILL);
    if (native.getppid() !== serverPid) native.exit(1);
  }
  return { preparation, fds: head.fds, learn: (header.readUInt32LE(4) & WARM_FLAG_LEARN) !== 0 };
}
