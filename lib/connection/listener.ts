// Listener and Client (docs/API.md section 3; CPython's connection.Listener and
// Client) over AF_UNIX and AF_INET, with Python's HMAC challenge: the
// listener challenges the client and then the client the listener, each
// with 40 random bytes under a "{sha256}" prefix. Python 3.12+ speaks it as
// is; a pre-3.12 Python answers with a bare HMAC-MD5, which is accepted.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { AuthenticationError, BufferTooShort, ProcessError } from '../errors';
import { native } from '../native';
import { privateTempDir } from '../temp_dir';
import { nodeCrypto, subDebug } from '../util';
import { Connection } from './connection';
import { LARGEST_MESSAGE, messageSizeLimit } from './framing';
import { forgetDescriptor, whenReady } from './readiness';

/**
 * The address family: `'AF_UNIX'` (a socket path) or `'AF_INET'` (`[host, port]`).
 *
 * @example
 * ```ts
 * const family: mp.connection.Family = 'AF_INET';
 * using listener = new mp.connection.Listener(null, { family }); // 127.0.0.1, a free port
 * console.log(listener.address); // [ '127.0.0.1', 41234 ]
 * ```
 */
export type Family = 'AF_UNIX' | 'AF_INET';
/**
 * Where a {@link Listener} listens and a {@link Client} connects: a socket
 * path (AF_UNIX; one starting with NUL is in Linux's abstract namespace) or
 * `[host, port]` (AF_INET).
 *
 * @example
 * ```ts
 * const tcp: mp.connection.Address = ['127.0.0.1', 6000];
 * const unix: mp.connection.Address = '/tmp/myapp.sock';
 * const conn = await mp.connection.Client(tcp, { authkey: 'secret' });
 * ```
 */
export type Address = string | [string, number];

/**
 * What `new Listener(address, options)` takes.
 *
 * @example
 * ```ts
 * const options: mp.connection.ListenerOptions = { authkey: 'secret', backlog: 16 };
 * using listener = new mp.connection.Listener('/tmp/myapp.sock', options);
 * const conn = await listener.accept(); // a peer that proved it holds the key
 * ```
 */
export interface ListenerOptions {
  /** The family; by default the address's (`AF_UNIX` when there is none). */
  family?: Family;
  /** How many connections may wait to be accepted (default 1). */
  backlog?: number;
  /**
   * With a key, every accepted connection runs Python's HMAC challenge both
   * ways and is trusted; a peer with another key fails with
   * {@link AuthenticationError}. Without one, connections carry data only.
   */
  authkey?: Uint8Array | string | null;
  /** The longest message an accepted connection takes (ConnectionOptions.maxMessageSize). */
  maxMessageSize?: number;
}

/**
 * What {@link Client} takes.
 *
 * @example
 * ```ts
 * const options: mp.connection.ClientOptions = { authkey: 'secret', maxMessageSize: 1 << 20 };
 * const conn = await mp.connection.Client(['127.0.0.1', 6000], options);
 * conn.send('ping');
 * ```
 */
export interface ClientOptions {
  /** The family; by default the address's. */
  family?: Family;
  /** The listener's key: both sides prove they hold it ({@link AuthenticationError} otherwise). */
  authkey?: Uint8Array | string | null;
  /** The longest message the connection takes (ConnectionOptions.maxMessageSize). */
  maxMessageSize?: number;
}

/** Checks maxMessageSize now: bad input fails before anything is bound or connected. */
function checkedMessageSize(options: { maxMessageSize?: number }): number | undefined {
  messageSizeLimit(options.maxMessageSize, LARGEST_MESSAGE);
  return options.maxMessageSize;
}

const CHALLENGE = Buffer.from('#CHALLENGE#');
const WELCOME = Buffer.from('#WELCOME#');
const FAILURE = Buffer.from('#FAILURE#');
const MESSAGE_LENGTH = 40;
const MD5_ONLY_MESSAGE_LENGTH = 20;
const MAX_AUTH_MESSAGE = 256;
const DIGESTS = new Map([
  ['md5', 'md5'],
  ['sha256', 'sha256'],
  ['sha384', 'sha384'],
  ['sha3_256', 'sha3-256'],
  ['sha3_384', 'sha3-384'],
]);

function authkeyBytes(authkey: unknown): Buffer | null {
  if (authkey === undefined || authkey === null) return null;
  if (typeof authkey === 'string') return Buffer.from(authkey, 'utf8');
  if (authkey instanceof Uint8Array) return Buffer.from(authkey);
  throw new TypeError('The "options.authkey" property must be a Uint8Array, a string or null');
}

/** Python's _get_digest_name_and_payload: "{name}payload", or no name. */
function digestAndPayload(message: Buffer): [string, Buffer] {
  if (message[0] === 0x7b /* { */) {
    const close = message.indexOf(0x7d /* } */, 1);
    if (close > 0 && close < 20) {
      const name = message.subarray(1, close).toString('latin1');
      if (DIGESTS.has(name)) return [name, message.subarray(close + 1)];
    }
  }
  return ['', message];
}

const hmac = (name: string, key: Buffer, message: Buffer): Buffer =>
  nodeCrypto().createHmac(DIGESTS.get(name) as string, key).update(message).digest();

async function recvAuthMessage(conn: Connection): Promise<Buffer> {
  try {
    return await conn.recvBytes(MAX_AUTH_MESSAGE);
  } catch (error) {
    if (error instanceof BufferTooShort) throw new AuthenticationError('message too long during authentication', { cause: error });
    throw error;
  }
}

function recvAuthMessageSync(conn: Connection, deadline: number): Buffer {
  if (!conn.pollSync(Math.max(0, deadline - Date.now()))) {
    throw new AuthenticationError(`the peer did not complete authentication within ${HANDSHAKE_TIMEOUT_MS / 1000} s`);
  }
  try {
    return conn.recvBytesSync(MAX_AUTH_MESSAGE);
  } catch (error) {
    if (error instanceof BufferTooShort) throw new AuthenticationError('message too long during authentication', { cause: error });
    throw error;
  }
}

async function deliverChallenge(conn: Connection, authkey: Buffer): Promise<void> {
  const message = challengeMessage(conn);
  checkResponse(conn, authkey, message, await recvAuthMessage(conn));
}

function challengeMessage(conn: Connection): Buffer {
  const message = Buffer.concat([Buffer.from('{sha256}'), nodeCrypto().randomBytes(MESSAGE_LENGTH)]);
  conn.sendBytes(Buffer.concat([CHALLENGE, message]));
  return message;
}

function checkResponse(conn: Connection, authkey: Buffer, message: Buffer, response: Buffer): void {
  const [name, payload] = digestAndPayload(response);
  const expected = hmac(name || 'md5', authkey, message);
  if (expected.length !== payload.length || !nodeCrypto().timingSafeEqual(expected, payload)) {
    conn.sendBytes(FAILURE);
    throw new AuthenticationError('digest received was wrong');
  }
  conn.sendBytes(WELCOME);
}

async function answerChallenge(conn: Connection, authkey: Buffer): Promise<void> {
  answerReceived(conn, authkey, await recvAuthMessage(conn));
  checkWelcome(await recvAuthMessage(conn));
}

function answerReceived(conn: Connection, authkey: Buffer, received: Buffer): void {
  if (!received.subarray(0, CHALLENGE.length).equals(CHALLENGE)) {
    throw new AuthenticationError('protocol error: expected a challenge');
  }
  const message = received.subarray(CHALLENGE.length);
  if (message.length < MD5_ONLY_MESSAGE_LENGTH) throw new AuthenticationError(`challenge too short: ${message.length} bytes`);
  const [name] = digestAndPayload(message);
  const response = name
    ? Buffer.concat([Buffer.from(`{${name}}`), hmac(name, authkey, message)])
    : hmac('md5', authkey, message);
  conn.sendBytes(response);
}

function checkWelcome(reply: Buffer): void {
  if (!reply.equals(WELCOME)) throw new AuthenticationError('digest sent was rejected');
}

function familyOf(address: unknown, family: unknown): Family {
  if (family !== undefined && family !== 'AF_UNIX' && family !== 'AF_INET') {
    throw new RangeError(`The "options.family" property must be 'AF_UNIX' or 'AF_INET'; received ${String(family)}`);
  }
  const implied: Family | undefined = typeof address === 'string' ? 'AF_UNIX' : Array.isArray(address) ? 'AF_INET' : undefined;
  if (family !== undefined && implied !== undefined && family !== implied) {
    throw new TypeError(`The "address" argument does not fit family ${family}: a path for AF_UNIX, [host, port] for AF_INET`);
  }
  return (family as Family | undefined) ?? implied ?? 'AF_UNIX';
}

function numericHost(host: string): string {
  if (host === 'localhost') return '127.0.0.1';
  if (host === '') return '0.0.0.0';
  return host;
}

function checkInetAddress(address: unknown): [string, number] {
  if (!Array.isArray(address) || address.length !== 2 || typeof address[0] !== 'string' || !Number.isInteger(address[1])) {
    throw new TypeError('The "address" argument must be [host, port] for AF_INET');
  }
  const port = address[1] as number;
  if (port < 0 || port > 65535) throw new RangeError(`The "address" port must be from 0 to 65535; received ${port}`);
  return [address[0], port];
}

/** As Python's: a fresh name in this process's private (0700) directory, so no other user can connect. */
export function arbitraryUnixAddress(): string {
  return path.join(privateTempDir(), `listener-${nodeCrypto().randomBytes(8).toString('hex')}`);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

let warnedUnauthenticated = false;

/** The reason a Listener's wait is cut short when a handshake ends. */
const outcomeArrived = Symbol('outcome arrived');

function warnUnauthenticated(host: string, port: number): void {
  if (warnedUnauthenticated) return;
  warnedUnauthenticated = true;
  process.emitWarning(
    `Listener on ${host || '0.0.0.0'}:${port} has no authkey: any host that reaches this port can connect and ` +
      'send data to this process. Give Listener and Client the same authkey.',
    { type: 'SecurityWarning', code: 'MP_UNAUTHENTICATED_LISTENER' },
  );
}

/** How long a peer may take over the whole authentication, either side. */
const HANDSHAKE_TIMEOUT_MS = 10000;
/**
 * Handshakes a Listener runs at once at most: past this the oldest is
 * dropped (refused with AuthenticationError), so a flood of silent peers
 * can neither exhaust this process's descriptors nor starve a real client.
 */
const MAX_HANDSHAKES = 128;

async function closeOnFailure<T>(conn: Connection, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    conn.close();
    throw error;
  }
}

/** Runs the handshake `work` on `conn` within HANDSHAKE_TIMEOUT_MS; a peer that stalls is dropped. */
async function authenticate(conn: Connection, work: () => Promise<void>): Promise<Connection> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new AuthenticationError(`the peer did not complete authentication within ${HANDSHAKE_TIMEOUT_MS / 1000} s`));
    }, HANDSHAKE_TIMEOUT_MS);
  });
  try {
    return await closeOnFailure(conn, () => Promise.race([work(), deadline]).then(() => conn));
  } finally {
    clearTimeout(timer);
  }
}

/** What one accepted connection came to: authenticated, or refused (accept() rejects with it). */
type Outcome = { conn: Connection } | { error: unknown };

/**
 * A server socket that accepts connections (Python's
 * `multiprocessing.connection.Listener`), over a Unix socket or TCP, with
 * Python's HMAC authentication when given an `authkey` (Python 3.12+ speaks
 * it as is). Without an address it listens on a fresh path in a private
 * directory of this process; a TCP listener beyond loopback without an
 * authkey emits a one-time `SecurityWarning`.
 *
 * @example
 * ```ts
 * using listener = new mp.connection.Listener(['127.0.0.1', 0], { authkey: 'secret' });
 * console.log(listener.address); // [ '127.0.0.1', 41234 ]: the real port
 * const conn = await listener.accept();
 * console.log(await conn.recv());
 * ```
 */
export class Listener {
  readonly #family: Family;
  readonly #address: Address;
  readonly #authkey: Buffer | null;
  readonly #maxMessageSize: number | undefined;
  #fd: number;

  /**
   * Binds and listens at once: `address` is readable when this returns (port 0
   * gives the real port).
   *
   * @throws TypeError or RangeError for a bad address or option; the system's
   * error (EADDRINUSE, …) when the address cannot be bound.
   */
  constructor(address?: Address | null, options: ListenerOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
    this.#family = familyOf(address ?? undefined, options.family);
    this.#authkey = authkeyBytes(options.authkey);
    this.#maxMessageSize = checkedMessageSize(options);
    const backlog = options.backlog ?? 1;
    if (!Number.isInteger(backlog) || backlog < 0) throw new RangeError(`The "options.backlog" property must be a non-negative integer`);
    if (this.#family === 'AF_UNIX') {
      const where = address ?? arbitraryUnixAddress();
      if (typeof where !== 'string') throw new TypeError('The "address" argument must be a socket path for AF_UNIX');
      this.#fd = native.unixListen(where, Math.max(backlog, 1));
      this.#address = where;
    } else {
      const [host, port] = checkInetAddress(address ?? ['127.0.0.1', 0]);
      const bound = native.tcpListen(numericHost(host), port, Math.max(backlog, 1));
      this.#fd = bound.fd;
      this.#address = [host, bound.port];
      if (this.#authkey === null && !isLoopback(numericHost(host))) warnUnauthenticated(host, bound.port);
    }
    native.setNonBlocking(this.#fd);
    subDebug('listener created with address=%O', this.#address);
  }

  /** Where the listener listens (for `[host, 0]`, the port bound). */
  get address(): Address {
    return Array.isArray(this.#address) ? [this.#address[0], this.#address[1]] : this.#address;
  }

  /** The listener's family. */
  get family(): Family {
    return this.#family;
  }

  /** Handshakes in progress; connections (or refusals) ready for accept(), in the order they completed. */
  readonly #authenticating = new Set<Connection>();
  readonly #outcomes: Outcome[] = [];
  #outcomeArrived: (() => void) | null = null;

  /**
   * The next connection, authenticated when the listener has an authkey.
   * Handshakes run side by side: a slow or silent peer holds up no other.
   *
   * @throws {@link AuthenticationError} (as a rejection) for a peer that fails
   * or stalls the handshake (10 s); {@link ProcessError} once closed; the
   * reason of `options.signal` when it aborts.
   */
  async accept(options: { signal?: AbortSignal } = {}): Promise<Connection> {
    for (;;) {
      const outcome = this.#outcomes.shift();
      if (outcome !== undefined) {
        if ('error' in outcome) throw outcome.error;
        return outcome.conn;
      }
      if (this.#fd < 0) throw new ProcessError('the listener is closed');
      const fd = native.acceptNow(this.#fd);
      if (fd >= 0) {
        const authkey = this.#authkey;
        const conn = new Connection(fd, { trusted: authkey !== null, maxMessageSize: this.#maxMessageSize });
        if (authkey === null) return conn;
        if (this.#authenticating.size >= MAX_HANDSHAKES) this.#dropOldestHandshake();
        this.#authenticate(conn, authkey);
        continue;
      }
      await this.#nextEvent(options.signal);
    }
  }

  #authenticate(conn: Connection, authkey: Buffer): void {
    this.#authenticating.add(conn);
    const handshake = authenticate(conn, async () => {
      await deliverChallenge(conn, authkey);
      await answerChallenge(conn, authkey);
    });
    handshake.then(
      (done) => this.#settle(conn, { conn: done }),
      (error: unknown) => this.#settle(conn, { error }),
    );
  }

  #dropOldestHandshake(): void {
    const [oldest] = this.#authenticating;
    this.#authenticating.delete(oldest);
    oldest.close();
    this.#outcomes.push({
      error: new AuthenticationError(`the peer was dropped: more than ${MAX_HANDSHAKES} handshakes were in progress`),
    });
  }

  #settle(conn: Connection, outcome: Outcome): void {
    if (!this.#authenticating.delete(conn)) return;
    if (this.#fd < 0) {
      conn.close();
      return;
    }
    this.#outcomes.push(outcome);
    this.#outcomeArrived?.();
  }

  /** Waits until a connection is waiting to be accepted or a handshake ends. */
  async #nextEvent(signal: AbortSignal | undefined): Promise<void> {
    const stop = new AbortController();
    const onAbort = (): void => stop.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#outcomeArrived = () => stop.abort(outcomeArrived);
    try {
      signal?.throwIfAborted();
      await whenReady(this.#fd, 'read', null, stop.signal);
    } catch (error) {
      if (error !== outcomeArrived) throw error;
    } finally {
      this.#outcomeArrived = null;
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Stops listening; an AF_UNIX socket file is removed. Closing twice does nothing. */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    subDebug('closing listener with address=%O', this.#address);
    for (const conn of this.#authenticating) conn.close();
    this.#authenticating.clear();
    for (const outcome of this.#outcomes.splice(0)) if ('conn' in outcome) outcome.conn.close();
    this.#outcomeArrived?.();
    forgetDescriptor(fd);
    native.closeFd(fd);
    if (this.#family === 'AF_UNIX' && typeof this.#address === 'string' && !this.#address.startsWith('\0')) {
      fs.rmSync(this.#address, { force: true });
    }
  }

  /** `using listener = …`: close() at the end of the scope. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** The client's socket: connected (AF_UNIX), or connecting (AF_INET: `pending` is its descriptor). */
function openClientSocket(address: Address, options: ClientOptions): { conn: Connection; authkey: Buffer | null; pending: number | null; where: string } {
  if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
  const family = familyOf(address, options.family);
  const authkey = authkeyBytes(options.authkey);
  const connectionOptions = { trusted: authkey !== null, maxMessageSize: checkedMessageSize(options) };
  if (family === 'AF_UNIX') {
    if (typeof address !== 'string') throw new TypeError('The "address" argument must be a socket path for AF_UNIX');
    return { conn: new Connection(native.unixConnect(address), connectionOptions), authkey, pending: null, where: address };
  }
  const [host, port] = checkInetAddress(address);
  const fd = native.tcpConnectStart(numericHost(host), port);
  return { conn: new Connection(fd, connectionOptions), authkey, pending: fd, where: `${host}:${port}` };
}

/**
 * Connects to a {@link Listener} (Python's
 * `multiprocessing.connection.Client`); with an authkey both sides prove
 * they hold it, and the connection is trusted.
 *
 * @throws {@link AuthenticationError} (as a rejection) for a wrong key or a
 * handshake not done within 10 s; the system's error (ECONNREFUSED,
 * ENOENT, …) when nothing listens there.
 * @example
 * ```ts
 * const conn = await mp.connection.Client('/tmp/my.sock', { authkey: 'secret' });
 * conn.send({ job: 1 });
 * ```
 */
export async function Client(address: Address, options: ClientOptions = {}): Promise<Connection> {
  const { conn, authkey, pending } = openClientSocket(address, options);
  if (pending !== null) {
    await closeOnFailure(conn, async () => {
      await whenReady(pending, 'write');
      native.connectResult(pending);
    });
  }
  if (authkey === null) return conn;
  return authenticate(conn, async () => {
    await answerChallenge(conn, authkey);
    await deliverChallenge(conn, authkey);
  });
}

/**
 * Client() that blocks the calling thread until connected and
 * authenticated (within `timeoutMs`): for a reference revived inside a
 * synchronous call (a manager proxy) that must reach its server at once.
 */
export function connectSync(address: Address, options: ClientOptions & { timeoutMs?: number } = {}): Connection {
  const timeoutMs = options.timeoutMs ?? HANDSHAKE_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const { conn, authkey, pending, where } = openClientSocket(address, options);
  try {
    if (pending !== null) {
      if (!native.pollFd(pending, true, timeoutMs)) throw new ProcessError(`connecting to ${where} timed out after ${timeoutMs} ms`);
      native.connectResult(pending);
    }
    if (authkey !== null) {
      answerReceived(conn, authkey, recvAuthMessageSync(conn, deadline));
      checkWelcome(recvAuthMessageSync(conn, deadline));
      const message = challengeMessage(conn);
      checkResponse(conn, authkey, message, recvAuthMessageSync(conn, deadline));
    }
  } catch (error) {
    conn.close();
    throw error;
  }
  return conn;
}
