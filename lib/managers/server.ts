// A manager's server (Python's managers.Server): the referents, their
// reference counts, and one async loop per client connection. Requests on
// a connection start in arrival order; a request that waits (a lock, a
// queue's get) holds up no other, on that connection or any.
import { setMaxListeners } from 'node:events';

import { Connection } from '../connection/connection';
import { Listener, type Address } from '../connection/listener';
import { AuthenticationError, ProcessError, RemoteError } from '../errors';
import { debug, info, nodeCrypto } from '../util';
import { callAs, type Caller } from './caller';
import { VALUE_OF } from './container_referents';
import { BaseProxy } from './proxy';
import { addressKey, Op, publicMethods, Reply, type ProxyInfo, type Request } from './protocol';

/** How the server makes and exposes one type (Python's registry entry, server side). */
export interface ServerTypeSpec {
  typeid: string;
  callable: ((...args: never[]) => unknown) | null;
  exposed: readonly string[] | null;
  methodToTypeid: Readonly<Record<string, string>> | null;
}

interface Referent {
  readonly obj: object;
  readonly typeid: string;
  readonly exposed: readonly string[];
  readonly exposedSet: ReadonlySet<string>;
  readonly methodToTypeid: Readonly<Record<string, string>>;
  refs: number;
}

/** The server's own account: references held by its local proxies (nested in its referents). */
const LOCAL = 0;

const servers = new Map<string, Server>();

/** The server serving `address` in this process, if this process is that server. */
export function localServer(address: Address): Server | undefined {
  return servers.get(addressKey(address));
}

/** A failure of the server itself (no such object, a method not exposed): Python's '#TRACEBACK' replies. */
const ServerError = RemoteError;

export interface ServerOptions {
  registry: readonly ServerTypeSpec[];
  address?: Address | null;
  authkey: Uint8Array;
  /** Methods of the server itself that clients call by name (Op.Extension). */
  extensions?: Readonly<Record<string, (...args: never[]) => unknown>>;
  /** Runs once the server stops (after its referents are let go). */
  onStop?: () => void | Promise<void>;
}

/**
 * A manager's server (Python's `managers.Server`), from
 * {@link BaseManager.getServer}: the referents, their reference counts, and
 * one async loop per client connection. Requests start in arrival order;
 * one that waits (a lock, a queue's get) holds up no other.
 *
 * @example
 * ```ts
 * const server = new MyManager({ address: ['127.0.0.1', 50000], authkey: 'secret' }).getServer();
 * await server.serveForever(); // until server.shutdown() or a client's shutdown request
 * ```
 */
export class Server {
  readonly #registry = new Map<string, ServerTypeSpec>();
  readonly #listener: Listener;
  readonly #extensions: Readonly<Record<string, (...args: never[]) => unknown>>;
  readonly #onStop: (() => void | Promise<void>) | undefined;
  readonly #referents = new Map<number, Referent>();
  readonly #owners = new Map<number, Map<number, number>>();
  readonly #transit = new Map<string, number>();
  readonly #acceptedEarly = new Set<string>();
  readonly #holds = new Map<string, { owner: number; refs: Array<[number, number]> }>();
  readonly #clients = new Map<number, { conn: Connection; abort: AbortController }>();
  /** Numbers start at random: a proxy of an earlier server at the same address finds no object, never another one. */
  #nextId = nodeCrypto().randomBytes(6).readUIntBE(0, 6) + 1;
  #nextOwner = 1;
  #serving = false;
  #stopping: Promise<void> | null = null;
  readonly #stopped: Promise<void>;
  #markStopped!: () => void;

  /** @internal Made by BaseManager.getServer() and the server process. Binds at once. */
  constructor(options: ServerOptions) {
    for (const spec of options.registry) this.#registry.set(spec.typeid, spec);
    this.#extensions = options.extensions ?? {};
    this.#onStop = options.onStop;
    this.#listener = new Listener(options.address ?? null, { authkey: options.authkey, backlog: 128 });
    this.#stopped = new Promise((resolve) => (this.#markStopped = resolve));
    servers.set(addressKey(this.#listener.address), this);
  }

  /** Where the server listens. */
  get address(): Address {
    return this.#listener.address;
  }

  /** Serves until shutdown() (or a client's shutdown request); resolves then. */
  async serveForever(): Promise<void> {
    if (!this.#serving && this.#stopping === null) {
      this.#serving = true;
      info('manager serving at %j', this.address);
      void this.#acceptLoop();
    }
    await this.#stopped;
  }

  async #acceptLoop(): Promise<void> {
    while (this.#stopping === null) {
      let conn: Connection;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#stopping !== null) return;
        // A peer without the authkey, garbage, or a stall: it is dropped; the others are served.
        debug('manager: connection refused: %s', String(error));
        if (!(error instanceof AuthenticationError)) await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      void this.#serve(conn, this.#nextOwner++);
    }
  }

  /** @internal Serves a connection made before the server started (the starting process's Pipe). */
  serveConnection(conn: Connection): void {
    void this.#serve(conn, this.#nextOwner++);
  }

  async #serve(first: Connection, owner: number): Promise<void> {
    const abort = new AbortController();
    // Hundreds of waits of one client may be parked on its signal at once.
    setMaxListeners(0, abort.signal);
    const caller: Caller = { id: owner, signal: abort.signal };
    const client = { conn: first, abort };
    this.#clients.set(owner, client);
    for (;;) {
      let request: unknown;
      try {
        request = await client.conn.recv();
      } catch {
        break;
      }
      if (!Array.isArray(request) || typeof request[0] !== 'number') break;
      if (request[1] === Op.Upgrade) {
        const channel = request[2];
        if (!(channel instanceof Connection)) break;
        client.conn.close();
        client.conn = channel;
        continue;
      }
      this.#handle(client.conn, caller, request as Request);
    }
    this.#clients.delete(owner);
    abort.abort(new ProcessError('the client is gone'));
    client.conn.close();
    this.#dropOwner(owner);
  }

  #handle(conn: Connection, caller: Caller, request: Request): void {
    const [callId, op] = request;
    let result: unknown;
    try {
      result = this.#run(caller, request);
    } catch (error) {
      this.#fail(conn, callId, error);
      return;
    }
    if (callId === 0) return;
    if (result instanceof Promise) {
      result.then(
        (value: unknown) => this.#reply(conn, callId, value),
        (error: unknown) => this.#fail(conn, callId, error),
      );
    } else {
      this.#reply(conn, callId, result);
    }
    if (op === Op.Shutdown) void this.shutdown();
  }

  #run(caller: Caller, request: Request): unknown {
    switch (request[1]) {
      case Op.Call:
        return this.#call(caller, request[2] as number, request[3] as string, request[4] as unknown[]);
      case Op.Create:
        return this.#create(caller.id, request[2] as string, request[3] as unknown[]);
      case Op.GetValue:
        return this.referentValue(request[2] as number);
      case Op.Decref:
        this.#dropRef(caller.id, request[2] as number);
        return undefined;
      case Op.Transit:
        this.#noteTransit(request[2] as number, request[3] as string);
        return undefined;
      case Op.Accept:
        this.acceptTransit(caller.id, request[2] as number, request[3] as string);
        return undefined;
      case Op.Hold:
        this.#hold(caller.id, request[2] as string, request[3] as Array<[number, number]>);
        return undefined;
      case Op.Claim:
        this.#claim(caller.id, request[2] as string);
        return undefined;
      case Op.Shutdown:
        return undefined;
      case Op.DebugInfo:
        return this.debugInfo();
      case Op.NumberOfObjects:
        return this.#referents.size;
      case Op.Dummy:
        return undefined;
      case Op.Extension: {
        const name = request[2] as string;
        const extension = Object.hasOwn(this.#extensions, name) ? this.#extensions[name] : undefined;
        if (extension === undefined) throw new ServerError(`the server has no method '${String(name)}'`);
        return callAs(caller, () => extension(...((request[3] as never[]) ?? [])));
      }
      default:
        throw new ServerError(`unknown request ${String(request[1])}`);
    }
  }

  #referent(id: number): Referent {
    const referent = this.#referents.get(id);
    if (referent === undefined) throw new ServerError(`the manager has no object ${String(id)} (its last proxy is gone)`);
    return referent;
  }

  #call(caller: Caller, id: number, method: string, args: unknown[]): unknown {
    const referent = this.#referent(id);
    if (typeof method !== 'string' || !referent.exposedSet.has(method)) {
      throw new ServerError(`method '${String(method)}' of ${referent.typeid} object is not in exposed=${JSON.stringify(referent.exposed)}`);
    }
    const fn = (referent.obj as Record<string, unknown>)[method];
    if (typeof fn !== 'function') throw new ServerError(`${referent.typeid} object has no method '${method}'`);
    const result = callAs(caller, () => (fn as (...a: unknown[]) => unknown).apply(referent.obj, Array.isArray(args) ? args : []));
    const typeid = Object.hasOwn(referent.methodToTypeid, method) ? referent.methodToTypeid[method] : undefined;
    if (typeid === undefined) return result;
    return result instanceof Promise ? result.then((value) => this.#adopt(caller.id, typeid, value)) : this.#adopt(caller.id, typeid, result);
  }

  async #create(owner: number, typeid: string, args: unknown[]): Promise<ProxyInfo> {
    const spec = this.#registry.get(typeid);
    if (spec === undefined) throw new ServerError(`the manager has no type '${String(typeid)}'`);
    if (spec.callable === null) throw new ServerError(`type '${typeid}' has no callable: it is only made by other methods`);
    const callable = spec.callable as unknown as (...a: unknown[]) => unknown;
    let obj: unknown;
    try {
      obj = Reflect.construct(callable, Array.isArray(args) ? args : []);
    } catch (error) {
      // A plain function, not a class (Python's callables are either).
      if (!(error instanceof TypeError) || !/is not a constructor|cannot be invoked without/.test(error.message)) throw error;
      obj = await callable(...(Array.isArray(args) ? args : []));
    }
    return this.#adopt(owner, typeid, obj);
  }

  /** Makes `obj` a referent, with one reference on `owner`'s account. */
  #adopt(owner: number, typeid: string, obj: unknown): ProxyInfo {
    if (obj === null || (typeof obj !== 'object' && typeof obj !== 'function')) {
      throw new ServerError(`'${typeid}' made ${String(obj)}, not an object: there is nothing to proxy`);
    }
    const spec = this.#registry.get(typeid);
    const exposed = spec?.exposed ?? publicMethods(obj);
    const id = this.#nextId++;
    this.#referents.set(id, {
      obj,
      typeid,
      exposed: [...exposed],
      exposedSet: new Set(exposed),
      methodToTypeid: spec?.methodToTypeid ?? {},
      refs: 0,
    });
    this.#addRef(owner, id, 1);
    // Told apart from a method's plain return value by identity.
    return markProxyInfo({ id, typeid, exposed: [...exposed] });
  }

  #addRef(owner: number, id: number, count: number): void {
    const referent = this.#referents.get(id);
    if (referent === undefined) return;
    referent.refs += count;
    let refs = this.#owners.get(owner);
    if (refs === undefined) this.#owners.set(owner, (refs = new Map()));
    refs.set(id, (refs.get(id) ?? 0) + count);
  }

  #dropRef(owner: number, id: number, count = 1): void {
    const refs = this.#owners.get(owner);
    const held = refs?.get(id) ?? 0;
    if (held === 0 || refs === undefined) return;
    const dropped = Math.min(held, count);
    if (held === dropped) refs.delete(id);
    else refs.set(id, held - dropped);
    this.#release(id, dropped);
  }

  #release(id: number, count: number): void {
    const referent = this.#referents.get(id);
    if (referent === undefined) return;
    referent.refs -= count;
    if (referent.refs > 0) return;
    this.#referents.delete(id);
    debug('disposing of obj with id %d (%s)', id, referent.typeid);
    disposeOf(referent.obj);
    releaseNested(referent.obj);
  }

  #dropOwner(owner: number): void {
    const refs = this.#owners.get(owner);
    this.#owners.delete(owner);
    for (const [key, hold] of this.#holds) if (hold.owner === owner) this.#holds.delete(key);
    for (const referent of this.#referents.values()) {
      (referent.obj as { forgetCaller?: (caller: Caller) => void }).forgetCaller?.({ id: owner, signal: undefined });
    }
    if (refs !== undefined) for (const [id, count] of refs) this.#release(id, count);
  }

  /** A proxy was serialized: its reference waits under `key` for whoever revives it. */
  #noteTransit(id: number, key: string): void {
    if (this.#acceptedEarly.delete(key)) return;
    if (!this.#referents.has(id)) return;
    this.#referents.get(id)!.refs++;
    this.#transit.set(key, id);
  }

  /**
   * @internal For proxies serialized in this process (results, nested proxies):
   * the same as a Transit request.
   */
  noteLocalTransit(id: number, key: string): void {
    this.#noteTransit(id, key);
  }

  /** @internal The reference under `key` goes to `owner` (LOCAL for a proxy revived in the server itself). */
  acceptTransit(owner: number, id: number, key: string): void {
    const waiting = this.#transit.get(key);
    if (waiting !== undefined) {
      this.#transit.delete(key);
      // Counted already: it moves to the owner's account.
      let refs = this.#owners.get(owner);
      if (refs === undefined) this.#owners.set(owner, (refs = new Map()));
      refs.set(waiting, (refs.get(waiting) ?? 0) + 1);
      return;
    }
    // The sender's Transit is still on its way (another connection): count it now, cancel that one when it comes.
    this.#acceptedEarly.add(key);
    this.#addRef(owner, id, 1);
  }

  /** @internal The server's local proxies let go of their reference when collected. */
  dropLocal(id: number): void {
    this.#dropRef(LOCAL, id);
  }

  #hold(owner: number, key: string, refs: Array<[number, number]>): void {
    if (!Array.isArray(refs)) return;
    const held: Array<[number, number]> = [];
    for (const [id, count] of refs) {
      if (!this.#referents.has(id) || !Number.isInteger(count) || count < 1) continue;
      this.#addRef(owner, id, count);
      held.push([id, count]);
    }
    this.#holds.set(key, { owner, refs: held });
  }

  #claim(owner: number, key: string): void {
    const hold = this.#holds.get(key);
    if (hold === undefined) return;
    this.#holds.delete(key);
    for (const [id, count] of hold.refs) {
      this.#addRef(owner, id, count);
      this.#dropRef(hold.owner, id, count);
    }
  }

  /** @internal What _getValue() copies: a container's contents, else the referent itself. */
  referentValue(id: number): unknown {
    const { obj } = this.#referent(id);
    return valueOf(obj) ?? obj;
  }

  /** @internal The referent of a local proxy's id (Condition takes its lock's referent). */
  referentObject(id: number): object {
    return this.#referent(id).obj;
  }

  /** @internal A local proxy's call: the same as a client's, on the server's own account. */
  callLocal(id: number, method: string, args: unknown[]): unknown {
    return this.#call({ id: LOCAL, signal: undefined }, id, method, args);
  }

  /** What the server holds, one referent per line with its reference count. */
  debugInfo(): string {
    const lines = [...this.#referents].map(([id, r]) => `  ${id}: refcount=${r.refs}\n    ${r.typeid}`);
    return lines.join('\n');
  }

  /** How many referents the server holds. */
  get numberOfObjects(): number {
    return this.#referents.size;
  }

  /** Stops serving: the listener closes, clients' connections close, referents are let go. */
  shutdown(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    debug('manager at %j received a shutdown message', this.address);
    servers.delete(addressKey(this.address));
    this.#listener.close();
    // Replies already handed to the connections are written before they close.
    await new Promise((resolve) => setImmediate(resolve));
    for (const { conn, abort } of this.#clients.values()) {
      abort.abort(new ProcessError('the manager is shutting down'));
      conn.close();
    }
    this.#clients.clear();
    const referents = [...this.#referents.values()];
    this.#referents.clear();
    await Promise.allSettled(referents.map((r) => disposeOf(r.obj)));
    try {
      await this.#onStop?.();
    } finally {
      this.#markStopped();
    }
  }

  #reply(conn: Connection, callId: number, value: unknown): void {
    if (conn.closed) return;
    const info = isProxyInfo(value) ? value : null;
    try {
      conn.send(info === null ? [callId, Reply.Ok, value] : [callId, Reply.Proxy, info]);
    } catch (error) {
      this.#fail(conn, callId, error);
    }
  }

  #fail(conn: Connection, callId: number, error: unknown): void {
    if (callId === 0 || conn.closed) return;
    try {
      conn.send([callId, Reply.Error, error]);
    } catch {
      // The error itself cannot cross: its name, message and stack can.
      const plain = error instanceof Error ? error : new Error(String(error));
      const copy = new Error(plain.message);
      copy.name = plain.name;
      copy.stack = plain.stack;
      try {
        conn.send([callId, Reply.Error, copy]);
      } catch {
        conn.close();
      }
    }
  }
}

const proxyInfos = new WeakSet<object>();

export function isProxyInfo(value: unknown): value is ProxyInfo {
  return typeof value === 'object' && value !== null && proxyInfos.has(value);
}

/** A referent that owns processes or descriptors (a Pool) lets go of them with its last proxy. */
function disposeOf(obj: object): Promise<void> | void {
  const terminate = (obj as { terminate?: () => unknown }).terminate;
  if (typeof terminate === 'function' && (obj as { constructor?: { name?: string } }).constructor?.name === 'Pool') {
    return Promise.resolve(terminate.call(obj)).then(
      () => undefined,
      () => undefined,
    );
  }
  return undefined;
}

/**
 * The proxies a freed referent held (a list in a dict) give their
 * references back at once, as Python's reference counting would, rather
 * than whenever the server next collects garbage.
 */
function valueOf(obj: object): unknown {
  const method = (obj as { [VALUE_OF]?: () => unknown })[VALUE_OF];
  return typeof method === 'function' ? method.call(obj) : undefined;
}

function releaseNested(obj: object): void {
  const seen = new Set<unknown>();
  const pending: unknown[] = [valueOf(obj)];
  while (pending.length > 0) {
    const value = pending.pop();
    if (value === null || typeof value !== 'object' || seen.has(value)) continue;
    seen.add(value);
    if (value instanceof BaseProxy) BaseProxy._releaseLocal(value);
    else if (value instanceof Map) for (const [k, v] of value) pending.push(k, v);
    else if (value instanceof Set || Array.isArray(value)) pending.push(...value);
    else if (Object.getPrototypeOf(value) === Object.prototype) pending.push(...Object.values(value));
  }
}

export function markProxyInfo(info: ProxyInfo): ProxyInfo {
  proxyInfos.add(info);
  return info;
}

export function newTransitKey(): string {
  return nodeCrypto().randomBytes(12).toString('base64url');
}
