// Loads the native addon (a prebuild or the local build, via node-gyp-build).
import * as path from 'node:path';

export interface ForkResult {
  pid: number;
  sentinel?: number;
}

export interface FunctionOrigin {
  url: string;
  line: number;
  column: number;
}

export interface SpawnOptions {
  file: string;
  args: string[];
  env: string[];
  cwd: string | null;
  /** [descriptor in the child, descriptor here] */
  fds: Array<[number, number]>;
  /** Start it in its own session with no parent in this tree (sentinel -1). */
  detached?: boolean;
}

/** A POSIX named semaphore, opened in this process (native/semaphore/semlock.cc). */
export interface NativeSemLock {
  readonly name: string;
  tryAcquire(): boolean;
  /** Blocks this thread; timeout in ms, null for ever. */
  acquireSync(timeoutMs: number | null): boolean;
  acquireAsync(id: number, thenPost: NativeSemLock | null): void;
  /** false (nothing posted) when the value is already `maxvalue`. */
  release(maxvalue?: number): boolean;
  getValue(): number;
  wake(): void;
  /** The value (index 0) and waiter count (index 1) words, where glibc's layout is known. */
  words(): Int32Array | null;
}

/** One libuv poll on a descriptor; its interest changes with setEvents(). */
export interface IoWatcher {
  setEvents(readable: boolean, writable: boolean): void;
  /** Whether the armed poll keeps the event loop alive. */
  setKeepAlive(keep: boolean): void;
  close(): void;
}

export interface NativeBinding {
  socketPair(): [number, number];
  /** Bytes sent, or -1 if the socket is full now; never blocks. */
  sendSome(fd: number, buffer: Uint8Array, offset: number, length: number, fds: number[] | null): number;
  /** Bytes read (0 at end-of-file), or -1 if nothing is there now; never blocks. */
  recvSome(fd: number, buffer: Uint8Array, offset: number, length: number, fdsOut: number[] | null): number;
  /** Up to n (≤ 16) bytes at the head of the stream, left there: null when nothing is there, false at end-of-file. */
  peekSome(fd: number, n: number): Buffer | null | false;
  /** As much of the next frame as is there, without waiting (native/socket/conn.cc RecvFrame). */
  recvFrame(
    fd: number,
    fdsOut: number[],
    maxLength: number,
  ): Buffer | null | false | { head: Buffer; headGot: number; data: Buffer | null; dataGot: number; fds: number[] };
  /** Blocks until readable (or writable); false at the timeout. */
  pollFd(fd: number, writable: boolean, timeoutMs: number | null): boolean;
  tcpListen(host: string, port: number, backlog: number): { fd: number; port: number };
  tcpConnectStart(host: string, port: number): number;
  connectResult(fd: number): void;
  acceptNow(fd: number): number;
  setNonBlocking(fd: number): void;
  IoWatcher: new (fd: number, callback: (error: Error | null, readable: boolean, writable: boolean) => void) => IoWatcher;
  /** create: a new semaphore under `name` (EEXIST if taken); else opens an existing one. */
  SemLock: new (value: number, name: string, create?: boolean) => NativeSemLock;
  semLockSetCallback(callback: (id: number, errno: number) => void): void;
  semLockCancel(id: number): boolean;
  semUnlink(name: string): void;
  semValueMax: number;
  /** `name` with its leading slash; create: O_EXCL and ftruncate(size). */
  shmOpen(name: string, create: boolean, size?: number): { fd: number; size: number };
  shmUnlink(name: string): void;
  /** mmap(MAP_SHARED) of `size` bytes at `offset`; unmapped with its backing store. */
  mapShared(fd: number, size: number, offset?: number): ArrayBuffer;
  /** Swaps the mapping of mapShared() for private zero pages; the range stays reserved until collected. */
  releaseShared(buffer: ArrayBuffer): void;
  /** A SharedArrayBuffer over the same mapping as a mapShared() ArrayBuffer (one per mapping). */
  sharedBufferOf(buffer: ArrayBuffer): SharedArrayBuffer;
  /** 0: woken, 1: not equal, 2: timed out. */
  atomicsWaitSync(buffer: SharedArrayBuffer, byteOffset: number, wide: boolean, value: number | bigint, timeoutMs: number | null): number;
  atomicsWaitAsync(buffer: SharedArrayBuffer, byteOffset: number, wide: boolean, value: number | bigint, timeoutMs: number | null, id: number): void;
  atomicsNotify(buffer: SharedArrayBuffer, byteOffset: number, wide: boolean, count: number): number;
  atomicsSetCallback(callback: (id: number, result: number, error: Error | null) => void): void;
  /** A close-on-exec descriptor of `size` bytes of nameless shareable memory. */
  anonymousShared(size: number): number;
  fdSize(fd: number): number;
  pageSize: number;
  functionOrigin(fn: Function): FunctionOrigin | null;
  /** Every function of this isolate defined in the script `url` (a full heap walk). */
  functionsDefinedIn(url: string): Function[];
  spawnProcess(options: SpawnOptions): { pid: number; sentinel: number };
  setParentDeathSignal(signal: number): void;
  pipe(): [number, number];
  unixListen(path: string, backlog: number): number;
  unixConnect(path: string): number;
  sendMessage(fd: number, data: Uint8Array, fds: number[]): void;
  recvMessage(fd: number, maxBytes: number, maxFds: number): { data: Buffer; fds: number[] };
  readExact(fd: number, length: number): Buffer;
  peerCredentials(fd: number): { pid: number; uid: number; gid: number };
  pollFds(fds: number[], timeoutMs: number | null): number[];
  dup(fd: number): number;
  setInheritable(fd: number, inheritable: boolean): void;
  getuid(): number;
  fork(options: { dieWithParent: boolean }): ForkResult;
  runLoopOnce(): boolean;
  /** [start, end) pairs of the pages this process alone maps in its private writable mappings (Linux; else empty). */
  hotPages(): Float64Array;
  /** Copies the pages of [start, end) pairs now (MADV_POPULATE_WRITE); returns the bytes done. */
  populate(ranges: Float64Array): number;
  /** CLOCK_MONOTONIC ms of the last fork: entered, forking, child running, child ready. */
  forkClock(): [number, number, number, number];
  performMicrotaskCheckpoint(): void;
  nodeModuleVersion: number;
  waitpid(pid: number, nohang: boolean): number | null;
  kill(pid: number, signal: number): boolean;
  pollReadable(fd: number, timeoutMs: number | null): boolean;
  writeAll(fd: number, data: Uint8Array): void;
  closeFd(fd: number): void;
  exit(code: number): never;
  getpid(): number;
  getppid(): number;
  pidfdOpen(pid: number): number;
}

const packageRoot = path.resolve(__dirname, '..', '..');

function load(): NativeBinding {
  // A sanitizer build (npm run test:asan) is named by path; children inherit the variable.
  const override = process.env.MULTIPROCESSING_ADDON;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  if (override !== undefined && override !== '') return require(path.resolve(override)) as NativeBinding;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodeGypBuild = require('node-gyp-build') as (dir: string) => NativeBinding;
  return nodeGypBuild(packageRoot);
}

export const native: NativeBinding = load();

/**
 * fork() uses V8 and Node C++ interfaces that are stable only within one
 * Node ABI version; refuse clearly rather than crash when they differ.
 */
export function assertForkAbi(): void {
  const running = Number(process.versions.modules);
  if (native.nodeModuleVersion !== running) {
    throw new Error(
      `multiprocessing: the native addon was built for Node ABI ${native.nodeModuleVersion} ` +
        `but this is Node ${process.version} (ABI ${running}); fork() needs a matching build: ` +
        'run `npm rebuild multiprocessing`',
    );
  }
}
