// The forkserver process (CPython's forkserver.main): imports the parent's
// main module and the preload list once, then starts one child per request:
// an idle warm child (warm_children.ts) or, when there is none, a fork.
// It runs a blocking loop: nothing else happens in this process, and its
// children fork from a quiet, single-threaded V8.
// First: every child runs the package's code the server compiled (eager_begin.ts).
import '../child/eager_begin';
import * as fs from 'node:fs';
import * as v8 from 'node:v8';

import { setBootstrapping } from '../process/current';
import type { ServerConfig } from '../process/forkserver';
import { assertForkAbi, native } from '../native';
import { importModule } from '../serialize/reference';
import { debug } from '../util';
import { inspectInheritedState, runForkedChild } from '../child/fork_child';
import { captureNodeInternals } from '../child/node_internals';
import { readPipeFrame } from '../connection/framing';
import { advance, ALIVE_FD, CONFIG_FD, LISTENER_FD, MAX_REQUEST_FDS, newRequest, type Pending, REPLY_BYTES, UNKNOWN_EXIT_CODE } from '../process/forkserver_wire';
import { closeServerDescriptors, type ServerState } from './forkserver_state';
import { becomeChild, readPreparation } from '../child/preparation';
import { discardWarmChild, forkWarmChild, handToWarmChild, learnFrom, REFILL_PAUSE_MS } from './warm_children';
import '../child/eager_end';

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
    const listening = acceptPausedUntil <= now ? [LISTENER_FD] : [];
    // The pool refills only while no client waits: a request never waits behind a warm fork.
    if (warm.length < config.warmChildren && refillPausedUntil <= now) {
      if (native.pollFds([...listening, ...pending.keys()], 0).length === 0) {
        if (!forkWarmChild(state, __filename, importedMain)) refillPausedUntil = now + REFILL_PAUSE_MS;
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
      const status = Buffer.allocUnsafe(REPLY_BYTES);
      status.writeInt32LE(code ?? UNKNOWN_EXIT_CODE);
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
    const message = native.recvMessage(connection, Math.min(room, READ_CHUNK), first ? MAX_REQUEST_FDS : 0);
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
    const reply = Buffer.allocUnsafe(REPLY_BYTES);
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
  return handToWarmChild(state, data, fds, connection) ?? forkChild(data, fds, state, connection);
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
