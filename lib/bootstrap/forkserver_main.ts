// The forkserver process (CPython's forkserver.main): imports the parent's
// main module and the preload list once, then forks one child per request.
// It runs a blocking loop: nothing else happens in this process, and its
// children fork from a quiet, single-threaded V8.
// First: every child runs the package's code the server compiled (eager_begin.ts).
import './eager_begin';
import * as fs from 'node:fs';
import * as v8 from 'node:v8';

import { setBootstrapping } from '../current';
import { ALIVE_FD, CONFIG_FD, LISTENER_FD, type ServerConfig } from '../forkserver';
import { assertForkAbi, native } from '../native';
import { importModule } from '../reference';
import { debug } from '../util';
import { inspectInheritedState, runForkedChild } from './fork_child';
import { captureNodeInternals } from './node_internals';
import { readPipeFrame } from '../connection/framing';
import { advance, newRequest, type Pending } from '../forkserver_request';
import { becomeChild, type Preparation, readPreparation } from './preparation';
import { markStartup } from './startup_trace';
import './eager_end';

const MAX_FDS = 64;
/** How long a client may take over its whole request before the server drops it. */
const REQUEST_TIMEOUT_MS = 10000;
/** One read takes at most this much: a big request arrives in several turns of the loop. */
const READ_CHUNK = 1 << 20;
/**
 * Requests read at once at most. A client that connects past this drops
 * the oldest unfinished one, so a flood of silent connections can neither
 * exhaust the server's descriptors nor keep a real request in the backlog.
 */
const MAX_PENDING = 128;
/** After accept() failed for want of descriptors, the listener rests this long. */
const ACCEPT_PAUSE_MS = 100;

interface Child {
  pid: number;
  connection: number;
  /** A warm child asked to report the pages it wrote writes them here before it exits. */
  report?: number;
}

/** A child forked ahead of any request, blocked reading its job from `channel` (Android's USAP). */
interface WarmChild {
  pid: number;
  sentinel: number;
  channel: number;
}

/** What the server holds open; a child it forks closes all of it but its own. */
interface ServerState {
  children: Map<number, Child>; // by sentinel
  pending: Map<number, Pending>; // by connection
  warm: WarmChild[]; // idle, oldest first
}

/**
 * Learned prefaulting (native/prefault.h): the first children handed out
 * report the pages they wrote; warm children forked afterwards copy those
 * pages while idle, off the critical path of a start.
 */
const LEARNING_CHILDREN = 3;
/** The learned set is capped: beyond this a warm child would copy more than any start writes. */
const MAX_HOT_BYTES = 32 << 20;
const LEARN_FLAG = 1;
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

/** After a warm fork failed (no memory, process limit), the pool rests this long before it refills. */
const REFILL_PAUSE_MS = 1000;
const SIGKILL = 9;

function readConfig(): ServerConfig {
  const frame = readPipeFrame(CONFIG_FD);
  // No configuration: the parent died while starting this server.
  if (frame === null) process.exit(0);
  const config = v8.deserialize(frame.data) as ServerConfig;
  native.closeFd(CONFIG_FD);
  return config;
}

/** The parent's main module once this server has imported it: its children need not import it again. */
let importedMain: string | null = null;

async function preload(config: ServerConfig): Promise<void> {
  const modules: Array<{ specifier: string; require: boolean }> = [];
  if (config.main !== null) modules.push({ specifier: config.main.specifier, require: config.main.kind === 'commonjs' });
  for (const specifier of config.preload) modules.push({ specifier, require: false });
  for (const { specifier, require: viaRequire } of modules) {
    setBootstrapping(true);
    try {
      if (viaRequire) require(specifier);
      else await importModule(specifier);
      if (specifier === config.main?.specifier) importedMain = specifier;
    } catch (error) {
      // As Python's forkserver: a module that fails here is imported again,
      // and fails visibly, in each child that needs it.
      process.emitWarning(`forkserver: cannot preload ${specifier}: ${(error as Error).message}`);
    } finally {
      setBootstrapping(false);
    }
  }
}

function serve(config: ServerConfig): never {
  const state: ServerState = { children: new Map(), pending: new Map(), warm: [] };
  const { children, pending, warm } = state;
  const myUid = native.getuid();
  native.setNonBlocking(LISTENER_FD);
  let acceptPausedUntil = 0;
  let refillPausedUntil = 0;
  for (;;) {
    const now = Date.now();
    // The pool refills only while no client waits: a request never waits behind a warm fork.
    if (warm.length < config.warmChildren && refillPausedUntil <= now) {
      const listening = acceptPausedUntil <= now ? [LISTENER_FD] : [];
      if (native.pollFds([...listening, ...pending.keys()], 0).length === 0) {
        if (!forkWarmChild(state)) refillPausedUntil = now + REFILL_PAUSE_MS;
        continue;
      }
    }
    let timeout: number | null = acceptPausedUntil > now ? acceptPausedUntil - now : null;
    for (const [connection, request] of pending) {
      if (request.deadline <= now) {
        debug('forkserver: request timed out');
        drop(pending, connection);
      } else {
        timeout = Math.min(timeout ?? Infinity, request.deadline - now);
      }
    }
    const listening = acceptPausedUntil <= now ? [LISTENER_FD] : [];
    if (warm.length < config.warmChildren && refillPausedUntil > now) {
      timeout = Math.min(timeout ?? Infinity, refillPausedUntil - now);
    }
    const warmSentinels = warm.map((child) => child.sentinel);
    const ready = native.pollFds(
      [...listening, ALIVE_FD, ...children.keys(), ...pending.keys(), ...warmSentinels],
      timeout,
    );
    for (const fd of ready) {
      if (fd === ALIVE_FD) shutDown(config);
      if (fd === LISTENER_FD) {
        if (!acceptAll(state, config.authkey, myUid)) acceptPausedUntil = Date.now() + ACCEPT_PAUSE_MS;
        continue;
      }
      if (pending.has(fd)) {
        readMore(fd, state, config.authkey);
        continue;
      }
      const idle = warm.findIndex((child) => child.sentinel === fd);
      if (idle >= 0) {
        // An idle child was killed (a signal to the process group): reaped,
        // and replaced after a rest, so that children dying at once cannot
        // keep the server forking.
        const [gone] = warm.splice(idle, 1);
        native.closeFd(gone.channel);
        discardWarmChild(gone);
        refillPausedUntil = Date.now() + REFILL_PAUSE_MS;
        continue;
      }
      const child = children.get(fd);
      if (child === undefined) continue;
      children.delete(fd);
      const code = native.waitpid(child.pid, false);
      const status = Buffer.allocUnsafe(4);
      status.writeInt32LE(code ?? 255);
      try {
        native.sendMessage(child.connection, status, []);
      } catch {
        // The parent has gone away; nobody is waiting for this status.
      }
      native.closeFd(child.connection);
      native.closeFd(fd);
      if (child.report !== undefined) learnFrom(child.report);
    }
  }
}

/**
 * Accepts every waiting client, reading at once the request of each that
 * has already sent one (a well-behaved client writes it whole right after
 * connecting). False when accept() failed for want of descriptors.
 */
function acceptAll(state: ServerState, authkey: Buffer, myUid: number): boolean {
  const { pending } = state;
  for (;;) {
    let connection: number;
    try {
      connection = native.acceptNow(LISTENER_FD);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== 'EMFILE' && code !== 'ENFILE') return true;
      if (pending.size === 0) return false;
      dropOldest(pending);
      continue;
    }
    if (connection < 0) return true;
    try {
      if (native.peerCredentials(connection).uid !== myUid) throw new Error('peer is another user');
    } catch (error) {
      debug('forkserver: connection refused: %s', String(error));
      native.closeFd(connection);
      continue;
    }
    if (pending.size >= MAX_PENDING) dropOldest(pending);
    pending.set(connection, newRequest(Date.now() + REQUEST_TIMEOUT_MS));
    if (native.pollFds([connection], 0).length > 0) readMore(connection, state, authkey);
  }
}

function dropOldest(pending: Map<number, Pending>): void {
  const [oldest] = pending.keys();
  debug('forkserver: too many unfinished requests; dropping the oldest');
  drop(pending, oldest);
}

function drop(pending: Map<number, Pending>, connection: number): void {
  const request = pending.get(connection);
  pending.delete(connection);
  for (const fd of request?.fds ?? []) native.closeFd(fd);
  native.closeFd(connection);
}

/** Reads what one readable connection has; forks once its request is whole. */
function readMore(connection: number, state: ServerState, expected: Buffer): void {
  const { pending } = state;
  const request = pending.get(connection) as Pending;
  let done: { data: Buffer; fds: number[] } | null;
  try {
    const first = request.got === 0;
    const room = request.bytes.length - request.got;
    const message = native.recvMessage(connection, Math.min(room, READ_CHUNK), first ? MAX_FDS : 0);
    if (first) request.fds = message.fds;
    if (message.data.length === 0) throw new Error('the client closed the connection mid-request');
    message.data.copy(request.bytes, request.got);
    request.got += message.data.length;
    done = advance(request, expected);
  } catch (error) {
    debug('forkserver: request refused: %s', String(error));
    drop(pending, connection);
    return;
  }
  if (done === null) return;
  pending.delete(connection);
  try {
    const pid = startChild(done.data, done.fds, state, connection);
    const reply = Buffer.allocUnsafe(4);
    reply.writeInt32LE(pid);
    native.sendMessage(connection, reply, []);
    if (pid > 0) return;
  } catch (error) {
    debug('forkserver: request failed: %s', String(error));
  } finally {
    for (const fd of done.fds) native.closeFd(fd);
  }
  native.closeFd(connection);
}

/**
 * Starts the child of one request: hands it to an idle warm child, or
 * forks one when there is none. Returns its pid (or -errno).
 */
function startChild(data: Buffer, fds: number[], state: ServerState, connection: number): number {
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
  return forkChild(data, fds, state, connection);
}

/** Forks a child for one request; returns its pid (or -errno). */
function forkChild(data: Buffer, fds: number[], state: ServerState, connection: number): number {
  const preparation = readPreparation(data);
  const inherited = inspectInheritedState();
  let result;
  try {
    result = native.fork({ dieWithParent: preparation.daemon });
  } catch (error) {
    const errno = (error as { errno?: number }).errno;
    return typeof errno === 'number' ? errno : -1;
  }
  if (result.pid !== 0) {
    state.children.set(result.sentinel as number, { pid: result.pid, connection });
    return result.pid;
  }
  closeServerDescriptors(state, [connection]);
  return runForkedChild({
    name: preparation.name,
    method: 'forkserver',
    inherited,
    become: () => becomeChild(preparation, fds, __filename, importedMain),
  });
}

/** The child: none of the server's descriptors but the ones it was sent. */
function closeServerDescriptors(state: ServerState, alsoClose: number[]): void {
  for (const fd of [LISTENER_FD, ALIVE_FD, ...alsoClose]) native.closeFd(fd);
  for (const [other, request] of state.pending) {
    native.closeFd(other);
    for (const fd of request.fds) native.closeFd(fd);
  }
  for (const [sentinel, other] of state.children) {
    native.closeFd(sentinel);
    native.closeFd(other.connection);
    if (other.report !== undefined) native.closeFd(other.report);
  }
  for (const other of state.warm) {
    native.closeFd(other.sentinel);
    native.closeFd(other.channel);
  }
}

/**
 * Forks one warm child: it does now what every child does before it knows
 * who it is (its pid, Node's queues, listeners, exit path, stdio), then
 * blocks until the server hands it a request. False if fork() failed.
 */
function forkWarmChild(state: ServerState): boolean {
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
      return becomeChild(job.preparation, job.fds, __filename, importedMain);
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
  const frame = Buffer.allocUnsafe(8 + data.length);
  frame.writeUInt32LE(data.length, 0);
  frame.writeUInt32LE(learn ? LEARN_FLAG : 0, 4);
  data.copy(frame, 8);
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
function learnFrom(channel: number): void {
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
function discardWarmChild(child: WarmChild): void {
  native.kill(child.pid, SIGKILL);
  native.waitpid(child.pid, false);
  native.closeFd(child.sentinel);
}

/** In a warm child: blocks until the server sends a request; exits quietly when the server is gone instead. */
function awaitJob(channel: number, serverPid: number): { preparation: Preparation; fds: number[]; learn: boolean } {
  const head = native.recvMessage(channel, 8, MAX_FDS);
  if (head.data.length === 0) native.exit(0);
  const header = head.data.length === 8 ? head.data : Buffer.concat([head.data, native.readExact(channel, 8 - head.data.length)]);
  const length = header.length === 8 ? header.readUInt32LE(0) : -1;
  const data = length >= 0 ? native.readExact(channel, length) : Buffer.alloc(0);
  if (length < 0 || data.length !== length) native.exit(0); // the server died mid-request
  markStartup('assigned');
  const preparation = readPreparation(data);
  if (preparation.daemon) {
    // As a child forked for a daemonic request: it dies with the server.
    native.setParentDeathSignal(SIGKILL);
    if (native.getppid() !== serverPid) native.exit(1);
  }
  return { preparation, fds: head.fds, learn: (header.readUInt32LE(4) & LEARN_FLAG) !== 0 };
}

function shutDown(config: ServerConfig): never {
  debug('forkserver %d: the parent has gone; exiting', process.pid);
  fs.rmSync(config.socketDir, { recursive: true, force: true });
  process.exit(0);
}

function main(): void {
  assertForkAbi();
  // Ctrl-C reaches the whole process group; the server outlives it as long as its parent does.
  process.on('SIGINT', () => {});
  // What the preloaded modules leave running may fail; the server serves on.
  const report = (error: unknown): void => {
    process.emitWarning(`forkserver: error in a preloaded module: ${String(error)}`);
  };
  process.on('unhandledRejection', report);
  process.on('uncaughtException', report);
  const config = readConfig();
  preload(config).then(
    () => {
      captureNodeInternals();
      // From a macrotask, so that the children's nested event loop is not inside a microtask.
      setImmediate(() => serve(config));
    },
    (error: unknown) => {
      process.stderr.write(`forkserver: ${String(error)}\n`);
      process.exit(1);
    },
  );
}

main();
