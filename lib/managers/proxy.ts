// Proxies (Python's BaseProxy and AutoProxy): a handle on a referent in a
// manager's server. Each proxy object holds one reference there, given
// back when it is collected; a proxy crosses to other processes (in
// arguments, queues, pipes, results) with its address and authkey, and
// the server keeps its reference for the receiver while it travels.
import type { Address } from '../connection/listener';
import { register as registerReducer } from '../serialize/reduction';
import { Link } from './link';
import { Op, type ProxyInfo, type Token } from './protocol';
import { isProxyInfo, localServer, newTransitKey, type Server } from './server';

/** Where a proxy's reference came from: made for it (a create or a method's result), or in transit under a key. */
type Origin = { owned: true } | { transitKey: string };

const kConstruct = Symbol('multiprocessing.managers.construct');

interface Collected {
  address: Address;
  authkey: Buffer;
  id: number;
  local: boolean;
}

const collected = new FinalizationRegistry<Collected>(({ address, authkey, id, local }) => {
  if (local) {
    localServer(address)?.dropLocal(id);
    return;
  }
  const link = Link.existing(address, authkey);
  if (link === undefined || link.broken !== null) return;
  const count = link.liveRefs.get(id) ?? 0;
  if (count <= 1) link.liveRefs.delete(id);
  else link.liveRefs.set(id, count - 1);
  link.post([0, Op.Decref, id]);
});

/**
 * A proxy class: {@link BaseProxy} or a subclass, with its optional static
 * `exposed` and `methodToTypeid`.
 *
 * @example
 * ```ts
 * const proxytype: mp.managers.ProxyClass = CounterProxy; // a subclass of mp.BaseProxy
 * MyManager.register('Counter', Counter, { proxytype });
 * ```
 */
export type ProxyClass = (abstract new (...args: never[]) => BaseProxy) & {
  /** The methods its proxies call ({@link BaseProxy.exposed}). */
  exposed?: readonly string[];
  /** Methods whose results are new referents ({@link BaseProxy.methodToTypeid}). */
  methodToTypeid?: Readonly<Record<string, string>>;
};

/** Proxy classes by typeid, for the results of methods that return new referents (methodToTypeid). */
const proxyTypes = new Map<string, ProxyClass>();

export function setProxyType(typeid: string, cls: ProxyClass): void {
  proxyTypes.set(typeid, cls);
}

export function proxyTypeOf(typeid: string): ProxyClass | undefined {
  return proxyTypes.get(typeid);
}

/**
 * A handle on a referent in a manager's server (Python's `BaseProxy`): the
 * base of every proxy. Subclass it for your own proxy types, calling
 * `_callMethod()`. A proxy holds one reference in the server, given back
 * when it is collected, and crosses to other processes (arguments, queues,
 * pipes, results) with its authkey, working there too; a call whose server
 * is gone rejects with {@link managers.ServerGoneError}. Proxies are made by
 * managers; `new` is refused.
 *
 * @category Managers
 * @example
 * ```ts
 * export class CounterProxy extends mp.BaseProxy {
 *   static override exposed = ['increment'];
 *   increment(): Promise<number> {
 *     return this._callMethod('increment') as Promise<number>;
 *   }
 * }
 * MyManager.register('Counter', Counter, { proxytype: CounterProxy });
 * ```
 */
export class BaseProxy {
  /** The methods a subclass calls (Python's `_exposed_`); unset: whatever the server reports. */
  static exposed?: readonly string[];
  /** Methods whose results are new referents, proxied as the named typeid (Python's _method_to_typeid_). */
  static methodToTypeid?: Readonly<Record<string, string>>;

  readonly #token: Token;
  readonly #authkey: Buffer;
  readonly #exposed: readonly string[];
  #server: Server | undefined;

  /**
   * Proxies are made by managers and by revival; `new` is refused.
   *
   * @throws TypeError always, from user code.
   */
  constructor(key: unknown, token: Token, authkey: Buffer, exposed: readonly string[]) {
    if (key !== kConstruct) throw new TypeError('proxies are made by a manager (await manager.list(), ...), not with new');
    this.#token = token;
    this.#authkey = authkey;
    this.#exposed = exposed;
  }

  /** Which referent this proxies: its type, server address and number. */
  get token(): Token {
    return this.#token;
  }

  /** The methods the server lets this proxy call. */
  get exposed(): readonly string[] {
    return this.#exposed;
  }

  /**
   * Calls the referent's `method` with `args` in the server (Python's
   * `_callmethod()`); resolves with its result (a proxy, for a method listed
   * in `methodToTypeid`). An error the method throws is rethrown with its
   * `name` and `message`, `cause` a {@link RemoteError} with the server's
   * stack; a method not exposed is a {@link RemoteError}.
   */
  _callMethod(method: string, args: readonly unknown[] = []): Promise<unknown> {
    const server = this.#server;
    if (server !== undefined) {
      return new Promise<unknown>((resolve) => resolve(server.callLocal(this.#token.id, method, [...args]))).then((value) =>
        isProxyInfo(value) ? proxyFor(value, this.#token.address, this.#authkey, { owned: true }) : value,
      );
    }
    const { address, id } = this.#token;
    return Link.for(address, this.#authkey).call(Op.Call, [id, method, args], (info) =>
      proxyFor(info, address, this.#authkey, { owned: true }),
    );
  }

  /** A copy of the referent (Python's `_getvalue()`). */
  _getValue(): Promise<unknown> {
    const server = this.#server;
    if (server !== undefined) return new Promise((resolve) => resolve(server.referentValue(this.#token.id)));
    return Link.for(this.#token.address, this.#authkey).call(Op.GetValue, [this.#token.id]);
  }

  /** `<ListProxy object, typeid 'list' at "/tmp/…" id 12>`. */
  toString(): string {
    return `<${this.constructor.name} object, typeid '${this.#token.typeid}' at ${JSON.stringify(this.#token.address)} id ${this.#token.id}>`;
  }

  /** @internal What util.inspect shows: toString(). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /** @internal The one way a proxy is made. */
  static [kConstruct](
    cls: ProxyClass,
    token: Token,
    authkey: Buffer,
    exposed: readonly string[],
    origin: Origin,
  ): BaseProxy {
    const proxy = Reflect.construct(cls as unknown as Function, [kConstruct, token, authkey, exposed]) as BaseProxy;
    const server = localServer(token.address);
    if (server !== undefined) {
      // In the server itself (a proxy nested in a referent): no link, its reference is the server's own.
      proxy.#server = server;
      if ('transitKey' in origin) server.acceptTransit(0, token.id, origin.transitKey);
      collected.register(proxy, { address: token.address, authkey, id: token.id, local: true }, proxy);
      return proxy;
    }
    const link = Link.for(token.address, authkey);
    if (link.broken === null) {
      if ('transitKey' in origin) link.post([0, Op.Accept, token.id, origin.transitKey]);
      link.liveRefs.set(token.id, (link.liveRefs.get(token.id) ?? 0) + 1);
      collected.register(proxy, { address: token.address, authkey, id: token.id, local: false });
    }
    return proxy;
  }

  /**
   * @internal A local proxy inside a referent the server let go of: its reference
   * goes now, not at some later collection.
   */
  static _releaseLocal(proxy: BaseProxy): void {
    const server = proxy.#server;
    if (server === undefined || !collected.unregister(proxy)) return;
    server.dropLocal(proxy.#token.id);
  }

  /** @internal For the reducer: the server keeps this proxy's reference for whoever revives it. */
  static _transit(proxy: BaseProxy): { key: string; authkey: Buffer } {
    const key = newTransitKey();
    if (proxy.#server !== undefined) proxy.#server.noteLocalTransit(proxy.#token.id, key);
    else Link.for(proxy.#token.address, proxy.#authkey).post([0, Op.Transit, proxy.#token.id, key]);
    return { key, authkey: proxy.#authkey };
  }
}

const autoProxies = new Map<string, ProxyClass>();

/**
 * A proxy class with an async method per name in `exposed`, each calling
 * the referent's method of that name (Python's `AutoProxy` /
 * `MakeProxyType`); exported as `managers.MakeProxyType`. Classes are
 * cached by their list of names.
 *
 * @example
 * ```ts
 * const CounterProxy = mp.managers.MakeProxyType(['increment', 'reset']);
 * MyManager.register('Counter', Counter, { proxytype: CounterProxy });
 * ```
 */
export function autoProxyType(exposed: readonly string[]): ProxyClass {
  const key = exposed.join('\0');
  let cls = autoProxies.get(key);
  if (cls !== undefined) return cls;
  const made = class AutoProxy extends BaseProxy {};
  for (const name of exposed) {
    if (name in BaseProxy.prototype) continue;
    Object.defineProperty(made.prototype, name, {
      value: function (this: BaseProxy, ...args: unknown[]) {
        return this._callMethod(name, args);
      },
      writable: true,
      configurable: true,
    });
  }
  made.exposed = exposed;
  autoProxies.set(key, (cls = made));
  return cls;
}

/** The proxy for a referent the server just made for this process. */
export function proxyFor(info: ProxyInfo, address: Address, authkey: Buffer, origin: Origin, cls?: ProxyClass | null): BaseProxy {
  const chosen = cls ?? proxyTypes.get(info.typeid) ?? autoProxyType(info.exposed);
  const exposed = chosen.exposed ?? info.exposed;
  return BaseProxy[kConstruct](chosen, { typeid: info.typeid, address, id: info.id }, authkey, exposed, origin);
}

interface ProxyState {
  typeid: string;
  address: Address;
  id: number;
  exposed: readonly string[];
  authkey: Buffer;
  key: string;
  /** The proxy's class: a registered typeid's (by name), the user's own (by reference), or null for an AutoProxy. */
  cls: string | ProxyClass | null;
}

registerReducer<BaseProxy, ProxyState>('multiprocessing.managers.Proxy', BaseProxy, {
  reduce(proxy) {
    const { key, authkey } = BaseProxy._transit(proxy);
    const cls = proxy.constructor as ProxyClass;
    const named = proxyTypes.get(proxy.token.typeid) === cls ? proxy.token.typeid : null;
    const auto = autoProxies.get(proxy.exposed.join('\0')) === cls;
    return {
      ...proxy.token,
      exposed: proxy.exposed,
      authkey,
      key,
      cls: named ?? (auto ? null : cls),
    };
  },
  revive(state) {
    const cls = typeof state.cls === 'string' ? (proxyTypes.get(state.cls) ?? null) : state.cls;
    return proxyFor(
      { id: state.id, typeid: state.typeid, exposed: [...state.exposed] },
      state.address,
      Buffer.from(state.authkey),
      { transitKey: state.key },
      cls,
    );
  },
});
