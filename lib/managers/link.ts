// A process's channel to one manager's server (Python keeps one
// connection per thread and server; a Node process has one thread). Calls
// carry numbers and may be answered out of order; a read is outstanding
// only while a call waits, so an idle link keeps no process alive. Over
// AF_UNIX the link moves to a Pipe sent through the socket, whose rings
// carry small messages through shared memory.
import { Pipe, type Connection } from '../connection/connection';
import { Client, connectSync, type Address } from '../connection/listener';
import { AuthenticationError, ProcessError, RemoteError, SerializationError } from '../errors';
import { registerAtFork } from '../process/at_fork';
import { remoteFailure } from '../pool/job';
import { addressKey, Op, Reply, type ProxyInfo } from './protocol';
import { localServer, newTransitKey } from './server';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  proxy: (info: ProxyInfo) => unknown;
}

const links = new Map<string, Link>();
/** References a fork child takes over from its parent's links (see the fork hooks below). */
let inheritedHolds = new Map<string, { key: string; refs: Map<number, number> }>();
let pendingHolds = new Map<string, { key: string; refs: Map<number, number> }>();

/**
 * A call through a proxy or manager whose server cannot be reached (it
 * stopped, or was killed): every call rejects with it at once.
 *
 * @example
 * ```ts
 * await manager.shutdown();
 * await list.append(1).catch((error) => console.log(error instanceof mp.RemoteError)); // true: a ServerGoneError
 * ```
 */
export class ServerGoneError extends RemoteError {}

export class Link {
  readonly address: Address;
  readonly authkey: Buffer;
  /** Proxies of this process per referent: what a fork child is given. */
  readonly liveRefs = new Map<number, number>();
  #conn: Connection | null = null;
  /** The socket and the Pipe end sent through it, closed once the server has answered on the Pipe. */
  #upgrading: Connection[] = [];
  #error: Error | null = null;
  /** Requests made while the connection is being made (to a server in this process). */
  #queued: unknown[][] | null = null;
  readonly #pending = new Map<number, Pending>();
  #nextCallId = 1;
  #pumping = false;

  private constructor(address: Address, authkey: Buffer, given: Connection | null = null) {
    this.address = address;
    this.authkey = authkey;
    if (given !== null) {
      this.#conn = given;
    } else if (localServer(address) !== undefined) {
      // The server is this very process (getServer()): a blocking connect would wait on ourselves.
      this.#queued = [];
      Client(address, { authkey }).then(
        (socket) => this.#connected(socket),
        (error: unknown) => this.#fail(error),
      );
    } else {
      let socket: Connection;
      try {
        socket = connectSync(address, { authkey });
      } catch (error) {
        this.#error = gone(address, error);
        return;
      }
      this.#connected(socket);
    }
    const inherited = inheritedHolds.get(linkKey(address, authkey));
    if (inherited !== undefined) {
      inheritedHolds.delete(linkKey(address, authkey));
      this.post([0, Op.Claim, inherited.key]);
      for (const [id, count] of inherited.refs) this.liveRefs.set(id, count);
    }
  }

  #connected(socket: Connection): void {
    if (typeof this.address === 'string') {
      const [mine, theirs] = Pipe(true);
      socket.send([0, Op.Upgrade, theirs]);
      this.#conn = mine;
      this.#upgrading = [socket, theirs];
    } else {
      this.#conn = socket;
    }
    const queued = this.#queued ?? [];
    this.#queued = null;
    for (const request of queued) this.#send(request);
    if (this.#pending.size > 0 && !this.#pumping) void this.#pump();
  }

  /** Sends now, or after the connection is made; a request that cannot cross fails its call only. */
  #send(request: unknown[]): void {
    if (this.#queued !== null) {
      this.#queued.push(request);
      return;
    }
    if (this.#conn === null) return;
    try {
      this.#conn.send(request);
    } catch (error) {
      const pending = this.#pending.get(request[0] as number);
      if (error instanceof SerializationError || error instanceof TypeError || error instanceof RangeError) {
        if (pending === undefined) throw error;
        this.#pending.delete(request[0] as number);
        pending.reject(error);
        return;
      }
      this.#fail(error);
    }
  }

  /** This process's link to the server at `address`, connected (and authenticated) now if it is not yet. */
  static for(address: Address, authkey: Buffer): Link {
    const key = linkKey(address, authkey);
    let link = links.get(key);
    if (link === undefined || (link.#error !== null && link.#pending.size === 0)) {
      link = new Link(address, authkey);
      links.set(key, link);
    }
    return link;
  }

  /** The link of the process that started the server: a Pipe made before the start, with no connect or handshake. */
  static adopt(address: Address, authkey: Buffer, conn: Connection): Link {
    const link = new Link(address, authkey, conn);
    links.get(linkKey(address, authkey))?.close();
    links.set(linkKey(address, authkey), link);
    return link;
  }

  /** This process's link to `address` if it has one (a collected proxy's decref needs no new one). */
  static existing(address: Address, authkey: Buffer): Link | undefined {
    return links.get(linkKey(address, authkey));
  }

  get broken(): Error | null {
    return this.#error;
  }

  /** Sends a request that has no reply. Lost, harmlessly, when the server is gone. */
  post(request: unknown[]): void {
    if (this.#error !== null) return;
    this.#send(request);
  }

  /** Sends a request and resolves with the server's answer (a proxy answer made by `proxy`). */
  call(op: Op, operands: unknown[], proxy: (info: ProxyInfo) => unknown = () => null): Promise<unknown> {
    if (this.#error !== null) return Promise.reject(this.#error);
    const callId = this.#nextCallId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(callId, { resolve, reject, proxy });
      this.#send([callId, op, ...operands]);
      if (this.#pending.has(callId) && this.#conn !== null && !this.#pumping) void this.#pump();
    });
  }

  /** A proxy of this link was serialized: the server keeps its reference for the receiver, under a key. */
  noteTransit(id: number): string {
    const key = newTransitKey();
    this.post([0, Op.Transit, id, key]);
    return key;
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (this.#pending.size > 0 && this.#conn !== null) {
        let message: unknown;
        try {
          message = await this.#conn.recv();
        } catch (error) {
          this.#fail(error);
          return;
        }
        if (this.#upgrading.length > 0) {
          for (const conn of this.#upgrading) conn.close();
          this.#upgrading = [];
        }
        this.#settle(message);
      }
    } finally {
      this.#pumping = false;
    }
  }

  #settle(message: unknown): void {
    if (!Array.isArray(message)) return;
    const [callId, kind, value] = message as [number, Reply, unknown];
    const pending = this.#pending.get(callId);
    if (pending === undefined) return;
    this.#pending.delete(callId);
    if (kind === Reply.Ok) pending.resolve(value);
    else if (kind === Reply.Proxy) {
      try {
        pending.resolve(pending.proxy(value as ProxyInfo));
      } catch (error) {
        pending.reject(error);
      }
    } else pending.reject(remoteFailure(value));
  }

  #fail(cause: unknown): void {
    if (this.#error === null) this.#error = gone(this.address, cause);
    this.#queued = null;
    const conn = this.#conn;
    this.#conn = null;
    conn?.close();
    for (const c of this.#upgrading) c.close();
    this.#upgrading = [];
    for (const pending of this.#pending.values()) pending.reject(this.#error);
    this.#pending.clear();
  }

  /** Closes this process's channel (the server drops the references it held). */
  close(): void {
    this.#fail(new ProcessError('the link was closed'));
    const key = linkKey(this.address, this.authkey);
    if (links.get(key) === this) links.delete(key);
  }
}

/** One link per server and authkey: a wrong key must be tried, not answered by a link made with the right one. */
function linkKey(address: Address, authkey: Buffer): string {
  return `${addressKey(address)}\0${authkey.toString('base64')}`;
}

function gone(address: Address, cause: unknown): Error {
  // A wrong authkey is said as itself: nothing is wrong with the server.
  if (cause instanceof AuthenticationError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new ServerGoneError(`the manager's server at ${JSON.stringify(address)} cannot be reached: ${detail}`, { cause });
}

// A fork child starts with copies of its parent's proxies but none of its
// links. Before the fork the parent asks each server to hold a reference
// per live proxy; the child claims them on its own link, so a parent that
// lets go of a proxy right after the fork cannot free what the child uses.
registerAtFork({
  before() {
    pendingHolds = new Map();
    for (const [key, link] of links) {
      if (link.liveRefs.size === 0 || link.broken !== null) continue;
      const holdKey = newTransitKey();
      link.post([0, Op.Hold, holdKey, [...link.liveRefs]]);
      pendingHolds.set(key, { key: holdKey, refs: new Map(link.liveRefs) });
    }
  },
  afterInParent() {
    pendingHolds = new Map();
  },
  afterInChild() {
    // The parent's channels are not this process's to read or close.
    links.clear();
    inheritedHolds = pendingHolds;
    pendingHolds = new Map();
  },
});
