// The forkserver process (CPython's forkserver.main): imports the parent's
// main module and the preload list once, then forks one child per request.
// It runs a blocking loop: nothing else happens in this process, and its
// children fork from a quiet, single-threaded V8.
import { timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as v8 from 'node:v8';

import { setBootstrapping } from '../current';
import { ALIVE_FD, CONFIG_FD, LISTENER_FD, type ServerConfig } from '../forkserver';
import { assertForkAbi, native } from '../native';
import { importModule } from '../reference';
import { debug } from '../util';
import { runForkedChild } from './fork_child';
import { captureNodeInternals } from './node_internals';
import { readFrame } from '../popen/frame';
import { becomeChild, readPreparation } from './preparation';

const AUTHKEY_LENGTH = 32;
const MAX_FDS = 64;
/** How long a client may take to send its request before the server drops it. */
const REQUEST_TIMEOUT_MS = 10000;

interface Child {
  pid: number;
  connection: number;
}

function readConfig(): ServerConfig {
  const frame = readFrame(CONFIG_FD);
  // No configuration: the parent died while starting this server.
  if (frame === null) process.exit(0);
  const config = v8.deserialize(frame.data) as ServerConfig;
  native.closeFd(CONFIG_FD);
  return config;
}

async function preload(config: ServerConfig): Promise<void> {
  const modules: Array<{ specifier: string; require: boolean }> = [];
  if (config.main !== null) modules.push({ specifier: config.main.specifier, require: config.main.kind === 'commonjs' });
  for (const specifier of config.preload) modules.push({ specifier, require: false });
  for (const { specifier, require: viaRequire } of modules) {
    setBootstrapping(true);
    try {
      if (viaRequire) require(specifier);
      else await importModule(specifier);
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
  const children = new Map<number, Child>(); // by sentinel
  const expected = config.authkey;
  const myUid = native.getuid();
  for (;;) {
    const ready = native.pollFds([LISTENER_FD, ALIVE_FD, ...children.keys()], null);
    for (const fd of ready) {
      if (fd === ALIVE_FD) shutDown(config);
      if (fd === LISTENER_FD) {
        acceptOne(children, expected, myUid);
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
    }
  }
}

function acceptOne(children: Map<number, Child>, expected: Buffer, myUid: number): void {
  let connection: number;
  try {
    connection = native.accept(LISTENER_FD);
  } catch {
    return;
  }
  let received: number[] = [];
  try {
    if (native.peerCredentials(connection).uid !== myUid) throw new Error('peer is another user');
    const request = readRequest(connection, expected);
    received = request.fds;
    const pid = forkChild(request.data, request.fds, children, connection);
    const reply = Buffer.allocUnsafe(4);
    reply.writeInt32LE(pid);
    native.sendMessage(connection, reply, []);
    if (pid > 0) return;
  } catch (error) {
    // A refused or broken request: drop the connection, fork nothing.
    debug('forkserver: request refused: %s', String(error));
  } finally {
    for (const fd of received) native.closeFd(fd);
  }
  native.closeFd(connection);
}

function readRequest(connection: number, expected: Buffer): { data: Buffer; fds: number[] } {
  if (native.pollFds([connection], REQUEST_TIMEOUT_MS).length === 0) throw new Error('request timed out');
  const first = native.recvMessage(connection, 65536, MAX_FDS);
  const fds = first.fds;
  try {
    let head = first.data;
    if (head.length < AUTHKEY_LENGTH + 4) {
      head = Buffer.concat([head, native.readExact(connection, AUTHKEY_LENGTH + 4 - head.length)]);
    }
    if (head.length < AUTHKEY_LENGTH + 4) throw new Error('short request');
    if (!timingSafeEqual(head.subarray(0, AUTHKEY_LENGTH), expected)) throw new Error('wrong authkey');
    const length = head.readUInt32LE(AUTHKEY_LENGTH);
    let data = head.subarray(AUTHKEY_LENGTH + 4);
    if (data.length < length) data = Buffer.concat([data, native.readExact(connection, length - data.length)]);
    if (data.length !== length) throw new Error('short request');
    return { data, fds };
  } catch (error) {
    for (const fd of fds) native.closeFd(fd);
    throw error;
  }
}

/** Forks a child for one request; returns its pid (or -errno). */
function forkChild(data: Buffer, fds: number[], children: Map<number, Child>, connection: number): number {
  const preparation = readPreparation(data);
  let result;
  try {
    result = native.fork({ dieWithParent: preparation.daemon });
  } catch (error) {
    const errno = (error as { errno?: number }).errno;
    return typeof errno === 'number' ? errno : -1;
  }
  if (result.pid !== 0) {
    children.set(result.sentinel as number, { pid: result.pid, connection });
    return result.pid;
  }
  // The child: none of the server's descriptors but the ones it was sent.
  for (const fd of [LISTENER_FD, ALIVE_FD, connection]) native.closeFd(fd);
  for (const [sentinel, other] of children) {
    native.closeFd(sentinel);
    native.closeFd(other.connection);
  }
  return runForkedChild({
    name: preparation.name,
    method: 'forkserver',
    become: () => becomeChild(preparation, fds, __filename),
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
