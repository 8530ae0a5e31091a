// A process's channel to one manager's server (Python keeps one
// connection per thread and server; a Node process has one thread). Calls
// carry numbers and may be answered out of order; a read is outstanding
// only while a call waits, so an idle link keeps no process alive. Over
// AF_UNIX the link moves to a Pipe sent through the socket, whose rings
// carry small messages through shared memory.
import { Pipe, type Connection } from '../connection/connection';
import { connectSync, type Address } from '../connection/listener';
import { ProcessError, RemoteError, SerializationError } from '../errors';
import { registerAtFork } from '../util';
import { remoteFailure } from '../pool/job';
import { addressKey, Op, Reply, type ProxyInfo } from './protocol';
import { newTransitKey } from './server';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  proxy: (info: ProxyInfo) => unknown;
}

const links = new Map<string, Link>();
/** References a fork child takes over from its parent's links (see the fork hooks below). */
let inheritedHolds = new Map<string, { key: string; refs: Map<number, number> }>();
let pendingHolds = new Map<string, { key: string; refs: Map<number, number> }>();

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
  readonly #pending = new Map<number, Pending>();
  #nextCallId = 1;
  #pumping = false;

  private constructor(address: Address, authkey: Buffer) {
    this.address = address;
    this.authkey = authkey;
    try {
      const socket = connectSync(address, { authkey });
      if (typeof address === 'string') {
        const [mine, theirs] = Pipe(true);
        socket.send([0, Op.Upgrade, theirs]);
        this.#conn = mine;
        this.#upgrading = [socket, theirs];
      } else {
        this.#conn = socket;
      }
    } catch (error) {
      this.#error = gone(address, error);
      return;
    }
    const inherited = inheritedHolds.get(addressKey(address));
    if (inherited !== undefined) {
      inheritedHolds.delete(addressKey(address));
      this.post([0, Op.Claim, inherited.key]);
      for (const [id, count] of inherited.refs) this.liveRefs.set(id, count);
    }
  }

  /** This process's link to the server at `address`, connected (and authenticated) now if it is not yet. */
  static for(address: Address, authkey: Buffer): Link {
    const key = addressKey(address);
    let link = links.get(key);
    if (link === undefined || (link.#error !== null && link.#pending.size === 0)) {
      link = new Link(address, authkey);
      links.set(key, link);
    }
    return link;
  }

  /** This process's link to `address` if it has one (a collected proxy's decref needs no new one). */
  static existing(address: Address): Link | undefined {
    return links.get(addressKey(address));
  }

  get broken(): Error | null {
    return this.#error;
  }

  /** Sends a request that has no reply. Lost, harmlessly, when the server is gone. */
  post(request: unknown[]): void {
    if (this.#conn === null) return;
    try {
      this.#conn.send(request);
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Sends a request and resolves with the server's answer (a proxy answer made by `proxy`). */
  call(op: Op, operands: unknown[], proxy: (info: ProxyInfo) => unknown = () => null): Promise<unknown> {
    if (this.#error !== null) return Promise.reject(this.#error);
    const callId = this.#nextCallId++;
    try {
      this.#conn!.send([callId, op, ...operands]);
    } catch (error) {
      // An argument that cannot cross fails this call only; a broken channel fails the link.
      if (error instanceof SerializationError || error instanceof TypeError || error instanceof RangeError) return Promise.reject(error);
      this.#fail(error);
      return Promise.reject(this.#error);
    }
    return new Promise((resolve, reject) => {
      this.#pending.set(callId, { resolve, reject, proxy });
      if (!this.#pumping) void this.#pump();
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
    if (links.get(addressKey(this.address)) === this) links.delete(addressKey(this.address));
  }
}

function gone(address: Address, cause: unknown): ServerGoneError {
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
