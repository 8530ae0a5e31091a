// What a manager's clients and server say to each other: one request or
// reply per message, serialized as any message (docs/API.md section 9),
// so that proxies, functions and the package's objects cross inside them.
import type { Address } from '../connection/listener';

/** Requests: [callId, op, ...operands]; callId 0 asks for no reply. */
export const enum Op {
  Call = 1, // [id, method, args]
  Create = 2, // [typeid, args]
  GetValue = 3, // [id]
  Decref = 4, // [id]
  Transit = 5, // [id, key]: a proxy was serialized; its receiver accepts the reference under `key`
  Accept = 6, // [id, key]
  Hold = 7, // [key, [[id, count], ...]]: references for a fork child, on the parent's account until claimed
  Claim = 8, // [key]
  Shutdown = 9,
  DebugInfo = 10,
  NumberOfObjects = 11,
  Dummy = 12,
  Upgrade = 13, // [Connection]: from now on, requests and replies take this channel
  Extension = 14, // [name, args]: a method of the server itself (SharedMemoryServer's segments)
}

export const enum Reply {
  Ok = 0,
  Error = 1,
  Proxy = 2,
}

export type Request = [number, Op, ...unknown[]];
export type Response = [number, Reply, unknown];

/**
 * What names a referent (Python's `Token`): its type, its server and its number there.
 *
 * @example
 * ```ts
 * const shared = await manager.list<number>();
 * const token: mp.managers.Token = shared.token;
 * console.log(token.typeid, token.id, token.address); // 'list', its number in the server, the server's address
 * ```
 */
export interface Token {
  /** The typeid the referent was made as. */
  readonly typeid: string;
  /** The server's address. */
  readonly address: Address;
  /** The referent's number in its server. */
  readonly id: number;
}

/** A method's result that is a new referent: the client makes a proxy of it. */
export interface ProxyInfo {
  id: number;
  typeid: string;
  exposed: string[];
}

export function addressKey(address: Address): string {
  return typeof address === 'string' ? address : `${address[0]}:${address[1]}`;
}

/** A method name the server may call: a referent's own, never the object machinery's. */
export function publicMethods(obj: object): string[] {
  const names = new Set<string>();
  for (let level: object | null = obj; level !== null && level !== Object.prototype; level = Object.getPrototypeOf(level) as object | null) {
    for (const name of Object.getOwnPropertyNames(level)) {
      if (name === 'constructor' || name.startsWith('_') || name.startsWith('#')) continue;
      const descriptor = Object.getOwnPropertyDescriptor(level, name);
      if (typeof descriptor?.value === 'function') names.add(name);
    }
  }
  return [...names];
}
