// The parent's side of the forkserver (CPython's forkserver.py): starts the
// server on first use and again after it has died, and opens one
// connection per child.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as v8 from 'node:v8';

import { mainModule, type MainModule } from '../child/preparation';
import { processErrorFrom } from '../errors';
import { atExit } from './exit';
import { native } from '../native';
import { spawnNode } from './popen/command';
import * as resourceTracker from '../sharedmem/resource_tracker';
import { writePipeFrame } from '../connection/framing';
import { currentProcess } from './process';
import { debug } from '../util';
import { registerAtFork } from './at_fork';
import { ALIVE_FD, CONFIG_FD, LISTENER_FD } from './forkserver_wire';


export interface ServerConfig {
  authkey: Buffer;
  main: MainModule | null;
  /** Module specifiers (absolute file URLs when they were paths) imported once by the server. */
  preload: string[];
  socketDir: string;
  /** Children the server keeps forked and idle, ready for a request (entry/warm_children.ts). */
  warmChildren: number;
}

interface RunningServer {
  pid: number;
  sentinel: number;
  aliveWriteEnd: number;
  socketPath: string;
  socketDir: string;
}

let preload: string[] = [];
/** Android's zygote keeps a pool of pre-forked processes too; one per CPU keeps a burst of starts warm. */
const DEFAULT_WARM_CHILDREN = Math.min(8, Math.max(1, os.availableParallelism()));
/** More than this would only hold memory: a refill takes about a millisecond. */
export const MAX_WARM_CHILDREN = 64;
let warmChildren = DEFAULT_WARM_CHILDREN;
let server: RunningServer | null = null;
/** Servers let go of but maybe not yet exited: reaped when they have. */
const retired: Array<{ pid: number; sentinel: number }> = [];

/**
 * Modules the forkserver imports once, before forking any child, so that
 * its children start with them loaded: module specifiers or paths
 * (resolved from the main module, or else the working directory). Taken
 * by the next server started; a module that fails to load is reported as
 * a warning and skipped.
 *
 * @throws TypeError for anything but an array of strings.
 * @category Processes
 * @example
 * ```ts
 * mp.setForkserverPreload(['./heavy-model.js', 'lodash']);
 * new mp.Process({ target: work }).start(); // work: an exported function
 * ```
 */
export function setForkserverPreload(modules: string[]): void {
  if (!Array.isArray(modules) || modules.some((m) => typeof m !== 'string')) {
    throw new TypeError('The "modules" argument must be an array of strings');
  }
  const base = mainModule();
  const from = createRequire(
    base?.kind === 'commonjs' ? base.specifier : path.join(process.cwd(), 'noop.js'),
  );
  preload = modules.map((specifier) => {
    if (specifier.startsWith('node:') || specifier.startsWith('file:')) return specifier;
    try {
      return pathToFileURL(from.resolve(specifier)).href;
    } catch {
      // Left for the server's import() to resolve (or to report).
      return specifier;
    }
  });
}

/**
 * How many children the forkserver keeps forked ahead, idle, so that a
 * start() is one message to one of them instead of a fork (0: none, every
 * child is forked at its request). Default: the number of CPUs, at most 8.
 * Taken by the next server started, as {@link setForkserverPreload}.
 *
 * @throws RangeError for anything but an integer from 0 to 64.
 * @category Processes
 * @example
 * ```ts
 * mp.setForkserverWarmChildren(0); // fork each child at its start() instead
 * ```
 */
export function setForkserverWarmChildren(count: number): void {
  if (!Number.isInteger(count) || count < 0 || count > MAX_WARM_CHILDREN) {
    throw new RangeError(`The "count" argument must be an integer from 0 to ${MAX_WARM_CHILDREN}; got ${String(count)}`);
  }
  warmChildren = count;
}

/** The warm children the next server will keep (tests, diagnostics). */
export function forkserverWarmChildren(): number {
  return warmChildren;
}

/** Connects to the server (starting it if needed); returns the connection's descriptor. */
export function connectToForkserver(): number {
  for (let attempt = 0; ; attempt++) {
    const running = ensureServer();
    try {
      return native.unixConnect(running.socketPath);
    } catch (error) {
      forgetServer();
      if (attempt > 0) throw processErrorFrom(error, 'cannot reach the forkserver');
    }
  }
}

/**
 * Called when the server dropped a request unanswered, or did not answer
 * in time: the next connection goes to a new server. A server that did
 * not answer is killed first: resumed later, it would still read the
 * request and start the process a second time.
 */
export function forkserverFailed(options: { unresponsive?: boolean } = {}): void {
  if (options.unresponsive === true && server !== null) native.kill(server.pid, os.constants.signals.SIGKILL);
  forgetServer();
}

/** The running server's pid, or null (tests and diagnostics). */
export function forkserverPid(): number | null {
  return server !== null && serverIsAlive(server) ? server.pid : null;
}

/** The running server's socket path, or null (tests). */
export function forkserverSocketPath(): string | null {
  return server !== null && serverIsAlive(server) ? server.socketPath : null;
}

/** Lets the server go (it exits when it sees the alive pipe close); the next start() starts a new one. */
export function stopForkserver(): void {
  forgetServer();
}

function serverIsAlive(running: RunningServer): boolean {
  return native.pollFds([running.sentinel], 0).length === 0;
}

function ensureServer(): RunningServer {
  if (retired.length > 0) reapRetired();
  if (server !== null && serverIsAlive(server)) return server;
  forgetServer();
  server = startServer();
  debug('started the forkserver, pid %d', server.pid);
  return server;
}

function startServer(): RunningServer {
  const socketDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-forkserver-'));
  // Removed by the tracker should this process and the server both be killed.
  resourceTracker.register(socketDir, 'folder');
  fs.chmodSync(socketDir, 0o700);
  const socketPath = path.join(socketDir, 'sock');
  const opened: number[] = [];
  try {
    const listener = native.unixListen(socketPath, 512);
    opened.push(listener);
    const [aliveRead, aliveWrite] = native.pipe();
    opened.push(aliveRead);
    const [configRead, configWrite] = native.pipe();
    opened.push(configRead, configWrite);
    const started = spawnNode('forkserver_main', {
      // Single-threaded V8: no helper thread can hold a lock when it forks.
      nodeArgs: ['--single-threaded'],
      fds: [
        [CONFIG_FD, configRead],
        [LISTENER_FD, listener],
        [ALIVE_FD, aliveRead],
      ],
    });
    const config: ServerConfig = {
      authkey: currentProcess().authkey,
      main: mainModule(),
      preload,
      socketDir,
      warmChildren,
    };
    const data = v8.serialize(config);
    try {
      writePipeFrame(configWrite, data);
    } catch {
      // A server that died at once is noticed by the first connection.
    }
    return { pid: started.pid, sentinel: started.sentinel, aliveWriteEnd: aliveWrite, socketPath, socketDir };
  } catch (error) {
    removeSocketDir(socketDir);
    throw processErrorFrom(error, 'cannot start the forkserver');
  } finally {
    for (const fd of opened) native.closeFd(fd);
  }
}

/** Lets go of the current server: it exits once it reads EOF on the alive pipe. */
function forgetServer(): void {
  if (server === null) return;
  const old = server;
  server = null;
  native.closeFd(old.aliveWriteEnd);
  retired.push({ pid: old.pid, sentinel: old.sentinel });
  reapRetired();
  removeSocketDir(old.socketDir);
}

function removeSocketDir(socketDir: string): void {
  fs.rmSync(socketDir, { recursive: true, force: true });
  resourceTracker.unregister(socketDir, 'folder');
}

function reapRetired(): void {
  for (let i = retired.length - 1; i >= 0; i--) {
    const { pid, sentinel } = retired[i];
    if (native.pollFds([sentinel], 0).length === 0) continue;
    native.waitpid(pid, true);
    native.closeFd(sentinel);
    retired.splice(i, 1);
  }
}

// After the children are joined: the server reports their ends.
atExit('release', forgetServer);

// A fork child has its own life: it starts its own server when it needs one.
registerAtFork({
  afterInChild: () => {
    if (server === null) return;
    native.closeFd(server.aliveWriteEnd);
    native.closeFd(server.sentinel);
    server = null;
  },
});
