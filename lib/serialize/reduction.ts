// What crosses a process boundary (docs/API.md section 9; CPython's reduction.py):
// node:v8 structured serialization for data, functions and classes by
// reference, Errors with their class and fields, and this package's own
// objects through registered reducers that may carry file descriptors.
import * as v8 from 'node:v8';

import { native } from '../native';
import { OutOfBandSerializer, outOfBandParts, readOutOfBand } from './out_of_band';

import { SerializationError } from '../errors';
import {
  describeReference,
  findReference,
  NeedsImport,
  resolveReferenceAsync,
  resolveReferenceSync,
  type FunctionReference,
} from './reference';

/**
 * What a reducer's `reduce()` is given.
 *
 * @example
 * ```ts
 * mp.reduction.register('myapp.LogFile', LogFile, {
 *   // context.purpose: 'message' (a pipe or a queue), or the start method of the child it goes to
 *   reduce: (file, context: mp.reduction.ReduceContext) => ({ fd: context.addFd(file.fd) }),
 *   revive: (state, context) => new LogFile(context.fd(state.fd)),
 * });
 * ```
 */
export interface ReduceContext {
  /** Why the value is being serialized: a start method, or 'message' for pipes and queues. */
  readonly purpose: string;
  /**
   * Sends the descriptor `fd` along with the data (SCM_RIGHTS; it stays this
   * process's too); returns its index, for the receiver's
   * {@link ReviveContext.fd}.
   */
  addFd(fd: number): number;
}

/**
 * What a reducer's `revive()` is given.
 *
 * @example
 * ```ts
 * mp.reduction.register('myapp.LogFile', LogFile, {
 *   reduce: (file, context) => ({ fd: context.addFd(file.fd) }),
 *   // the descriptor, open in the receiving process and now the new LogFile's
 *   revive: (state, context: mp.reduction.ReviveContext) => new LogFile(context.fd(state.fd)),
 * });
 * ```
 */
export interface ReviveContext {
  /**
   * The descriptor sent as `index`, open in this process and owned by the
   * object revived (each index may be taken once; those no reducer takes are
   * closed).
   */
  fd(index: number): number;
}

/**
 * How one class crosses a process boundary: `reduce()` turns an instance
 * into state that is itself serializable (descriptors through the context),
 * and `revive()` makes the instance from it on the other side.
 *
 * @example
 * ```ts
 * const pointReducer: mp.reduction.Reducer<Point, [number, number]> = {
 *   reduce: (point) => [point.x, point.y],
 *   revive: ([x, y]) => new Point(x, y),
 * };
 * mp.reduction.register('myapp.Point', Point, pointReducer);
 * ```
 */
export interface Reducer<T extends object, S = unknown> {
  /** The state of `value` to send. */
  reduce(value: T, context: ReduceContext): S;
  /** The object `state` describes, in the receiving process. */
  revive(state: S, context: ReviveContext): T;
}

interface RegisteredReducer {
  id: string;
  cls: abstract new (...args: never[]) => object;
  reducer: Reducer<object>;
}

const reducersById = new Map<string, RegisteredReducer>();

// The package's own objects register their reducers when their modules
// load; a child that receives one before anything imported that module
// (a spawn child of a script that never imported it itself) loads it here.
const builtinModules: ReadonlyArray<readonly [RegExp, string]> = [
  [/^multiprocessing\.(Lock|RLock|Semaphore|BoundedSemaphore|Condition|Event|Barrier)$/, '../synchronize'],
  [/^multiprocessing\.Connection$/, '../connection'],
  [/^multiprocessing\.(Queue|JoinableQueue|SimpleQueue)$/, '../queues'],
  [/^multiprocessing\.SharedMemory$/, '../sharedmem/shared_memory'],
  [/^multiprocessing\.ShareableList$/, '../sharedmem/shareable_list'],
  [/^multiprocessing\.sharedctypes\./, '../sharedmem/sharedctypes'],
  [/^multiprocessing\.managers\./, '../managers/index'],
];

function builtinReducer(id: string): RegisteredReducer | undefined {
  for (const [pattern, module] of builtinModules) {
    if (pattern.test(id)) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(module);
      return reducersById.get(id);
    }
  }
  return undefined;
}
const reducersByPrototype = new Map<object, RegisteredReducer>();

/**
 * Registers how instances of `cls` (and of its subclasses) cross a process
 * boundary: as arguments, results, queue items and messages. `id` names the
 * reducer on the receiving side, which must have registered the same id:
 * register at module load (in a module the children load too), as this
 * package does for its own objects.
 *
 * @throws TypeError for an empty id, a `cls` that is not a class, or a
 * reducer without reduce() and revive().
 * @example
 * ```ts
 * // tempfile.ts, imported by every process that sends or receives one
 * export class TempFile {
 *   constructor(readonly fd: number, readonly path: string) {}
 * }
 * mp.reduction.register('myapp.TempFile', TempFile, {
 *   reduce: (file, context) => ({ fd: context.addFd(file.fd), path: file.path }),
 *   revive: (state, context) => new TempFile(context.fd(state.fd), state.path),
 * });
 * ```
 */
export function register<T extends object, S>(
  id: string,
  cls: abstract new (...args: never[]) => T,
  reducer: Reducer<T, S>,
): void {
  if (typeof id !== 'string' || id === '') throw new TypeError('The "id" argument must be a non-empty string');
  if (typeof cls !== 'function') throw new TypeError('The "cls" argument must be a class');
  if (typeof reducer?.reduce !== 'function' || typeof reducer.revive !== 'function') {
    throw new TypeError('The "reducer" argument must have reduce() and revive() methods');
  }
  const entry: RegisteredReducer = { id, cls, reducer: reducer as unknown as Reducer<object> };
  reducersById.set(id, entry);
  reducersByPrototype.set(cls.prototype as object, entry);
}

// Single objects that cross as live handles though their class (a typed
// array over shared memory: RawArray) must otherwise be copied.
const reducersByInstance = new WeakMap<object, RegisteredReducer>();

/** Registers a reducer for single instances only (registerInstance), under `id`. */
export function registerForInstances<T extends object, S>(id: string, reducer: Reducer<T, S>): void {
  reducersById.set(id, { id, cls: Object, reducer: reducer as unknown as Reducer<object> });
}

/** Makes `instance` cross with the reducer registered as `id`, whatever its class. */
export function registerInstance(instance: object, id: string): void {
  const entry = reducersById.get(id);
  if (entry === undefined) throw new Error(`no reducer named "${id}" is registered`);
  reducersByInstance.set(instance, entry);
}

function reducerFor(value: object): RegisteredReducer | undefined {
  const instanceEntry = reducersByInstance.get(value);
  if (instanceEntry !== undefined) return instanceEntry;
  for (let proto = Object.getPrototypeOf(value); proto !== null; proto = Object.getPrototypeOf(proto)) {
    const entry = reducersByPrototype.get(proto);
    if (entry !== undefined) return entry;
  }
  return undefined;
}

// ---------------------------------------------------------------- markers
// A value v8 cannot carry is replaced by a marker object; the first byte of
// the payload says whether the receiver must look for markers at all.
const MARK = '\u0000mp';
const PLAIN = 0;
const MARKED = 1;
/** Plain data that JSON carries exactly: JSON text, ~10x cheaper than node:v8 for small values. */
const JSON_TEXT = 2;
const JSON_NODE_LIMIT = 256;
/** node:v8 with big buffers beside the body (out_of_band.ts). */
const OUT_OF_BAND_PLAIN = 3;
const OUT_OF_BAND_MARKED = 4;
/** Marked, and some marker names a function or class: the receiver resolves references (maybe with import()). */
const MARKED_REFS = 5;
const OUT_OF_BAND_MARKED_REFS = 6;
const tagBytes: Buffer[] = [];
for (const tag of [PLAIN, MARKED, MARKED_REFS]) tagBytes[tag] = Buffer.from([tag]);

/**
 * Whether JSON.parse(JSON.stringify(value)) gives back an equal value of the
 * same shape: null, booleans, strings, finite numbers but -0, dense arrays
 * and Object.prototype objects of those (no accessors reach JSON through
 * Object.keys on plain data). Small values only: the check must stay cheap.
 */
function isJsonData(value: unknown, budget: { nodes: number }): boolean {
  if (--budget.nodes < 0) return false;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      const proto = Object.getPrototypeOf(value);
      if (proto === Array.prototype) {
        const array = value as unknown[];
        for (let i = 0; i < array.length; i++) {
          if (!(i in array) || !isJsonData(array[i], budget)) return false;
        }
        return Object.keys(array).length === array.length;
      }
      if (proto !== Object.prototype) return false;
      for (const key in value) {
        if (!Object.prototype.hasOwnProperty.call(value, key)) return false;
        const descriptor = Object.getOwnPropertyDescriptor(value, key);
        if (descriptor === undefined || !('value' in descriptor)) return false;
        if (!isJsonData(descriptor.value, budget)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

type Marker =
  | { [MARK]: 'fn'; ref: FunctionReference }
  | { [MARK]: 'obj'; ref: FunctionReference; fields: Record<string, unknown> }
  | { [MARK]: 'err'; ref: FunctionReference | null; props: Record<string, unknown> }
  | { [MARK]: 'red'; id: string; state: unknown };

function isMarker(value: object): value is Marker {
  return Object.prototype.hasOwnProperty.call(value, MARK);
}

// Objects v8 serializes faithfully by itself.
const leafPrototypes = new Set<object>([
  Date.prototype,
  RegExp.prototype,
  ArrayBuffer.prototype,
  Boolean.prototype,
  Number.prototype,
  String.prototype,
  BigInt.prototype,
]);

function isLeafObject(value: object): boolean {
  if (ArrayBuffer.isView(value)) return true;
  const proto = Object.getPrototypeOf(value);
  return proto !== null && leafPrototypes.has(proto);
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function pathOf(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  const safe = /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  return parent === '' ? (safe.startsWith('.') ? key : safe) : parent + safe;
}

function describeValue(value: unknown): string {
  if (typeof value === 'function') return `the function ${value.name === '' ? '(anonymous)' : `"${value.name}"`}`;
  if (typeof value === 'symbol') return `a symbol (${String(value)})`;
  const ctor = (value as { constructor?: { name?: string } }).constructor;
  return `an instance of ${ctor?.name || 'an unnamed class'}`;
}

function failure(where: string, value: unknown, why: string, purpose: string): SerializationError {
  const label = where === '' ? 'the value' : where;
  const advice =
    typeof value === 'function'
      ? purpose === 'spawn' || purpose === 'forkserver'
        ? ` Export it from its module (a named or default export), or use the 'fork' start method.`
        : ' Export it from its module (a named or default export).'
      : '';
  return new SerializationError(
    `cannot send ${label} (${describeValue(value)}) to another process${purpose ? ` (${purpose})` : ''}: ${why}.${advice}`,
  );
}

// ---------------------------------------------------------------- sending

class Writer implements ReduceContext {
  readonly fds: number[] = [];
  /** Whether a marker names a function or a class (the receiver must resolve it). */
  references = false;
  readonly #memo = new Map<object, unknown>();
  constructor(readonly purpose: string) {}

  addFd(fd: number): number {
    if (!Number.isInteger(fd) || fd < 0) throw new TypeError('The "fd" argument must be a file descriptor');
    this.fds.push(fd);
    return this.fds.length - 1;
  }

  /** Pass 1: true when some value needs a marker; throws for values that cannot cross. */
  needsMarkers(value: unknown, where: string, seen: Set<object>): boolean {
    if (typeof value === 'function') {
      this.#reference(value, where);
      return true;
    }
    if (typeof value === 'symbol') throw failure(where, value, 'symbols cannot be serialized', this.purpose);
    if (value === null || typeof value !== 'object') return false;
    if (seen.has(value)) return false;
    seen.add(value);
    if (reducersByInstance.has(value)) return true;
    if (isLeafObject(value)) return false;
    if (Array.isArray(value)) {
      let found = false;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if ((typeof item === 'object' && item !== null) || typeof item === 'function' || typeof item === 'symbol') {
          if (this.needsMarkers(item, pathOf(where, i), seen)) found = true;
        }
      }
      return found;
    }
    if (value instanceof Map) {
      let found = false;
      for (const [key, item] of value) {
        if (this.needsMarkers(key, `${where}.keys()`, seen)) found = true;
        if (this.needsMarkers(item, `${where}.get(${describeKey(key)})`, seen)) found = true;
      }
      return found;
    }
    if (value instanceof Set) {
      let found = false;
      for (const item of value) if (this.needsMarkers(item, `${where}.values()`, seen)) found = true;
      return found;
    }
    if (isPlainObject(value)) {
      let found = false;
      for (const key of Object.keys(value)) {
        if (this.needsMarkers((value as Record<string, unknown>)[key], pathOf(where, key), seen)) found = true;
      }
      return found;
    }
    if (reducerFor(value) !== undefined || value instanceof Error) {
      // Their state is checked when it is built, in pass 2.
      return true;
    }
    if (value instanceof WeakMap || value instanceof WeakSet || value instanceof Promise) {
      throw failure(where, value, 'it cannot be copied into another process', this.purpose);
    }
    this.#classReference(value, where);
    for (const key of Object.keys(value)) {
      this.needsMarkers((value as Record<string, unknown>)[key], pathOf(where, key), seen);
    }
    return true;
  }

  /** Pass 2: a copy of value in which every marker is in place (shares leaves). */
  mark(value: unknown, where: string): unknown {
    if (typeof value === 'function') return { [MARK]: 'fn', ref: this.#reference(value, where) };
    if (value === null || typeof value !== 'object') return value;
    if (isLeafObject(value) && !reducersByInstance.has(value)) return value;
    const done = this.#memo.get(value);
    if (done !== undefined) return done;
    if (Array.isArray(value)) {
      const copy: unknown[] = new Array(value.length);
      this.#memo.set(value, copy);
      for (let i = 0; i < value.length; i++) if (i in value) copy[i] = this.mark(value[i], pathOf(where, i));
      return copy;
    }
    if (value instanceof Map) {
      const copy = new Map<unknown, unknown>();
      this.#memo.set(value, copy);
      for (const [key, item] of value) {
        copy.set(this.mark(key, `${where}.keys()`), this.mark(item, `${where}.get(${describeKey(key)})`));
      }
      return copy;
    }
    if (value instanceof Set) {
      const copy = new Set<unknown>();
      this.#memo.set(value, copy);
      for (const item of value) copy.add(this.mark(item, `${where}.values()`));
      return copy;
    }
    if (isPlainObject(value)) {
      const copy: Record<string, unknown> = {};
      this.#memo.set(value, copy);
      for (const key of Object.keys(value)) copy[key] = this.mark((value as Record<string, unknown>)[key], pathOf(where, key));
      return copy;
    }
    const registered = reducerFor(value);
    if (registered !== undefined) {
      const marker: { [MARK]: 'red'; id: string; state: unknown } = { [MARK]: 'red', id: registered.id, state: null };
      this.#memo.set(value, marker);
      const state = registered.reducer.reduce(value, this);
      this.needsMarkers(state, where, new Set());
      marker.state = this.mark(state, where);
      return marker;
    }
    if (value instanceof Error) return this.#markError(value, where);
    const fields: Record<string, unknown> = {};
    const marker = { [MARK]: 'obj', ref: this.#classReference(value, where), fields };
    this.#memo.set(value, marker);
    for (const key of Object.keys(value)) fields[key] = this.mark((value as Record<string, unknown>)[key], pathOf(where, key));
    return marker;
  }

  #markError(error: Error, where: string): unknown {
    const props: Record<string, unknown> = {};
    const marker = { [MARK]: 'err', ref: null as FunctionReference | null, props };
    this.#memo.set(error, marker);
    const ctor = error.constructor;
    if (typeof ctor === 'function' && !(ctor.name in builtinErrors && builtinErrors[ctor.name] === ctor)) {
      const found = findReference(ctor);
      if ('module' in found) {
        marker.ref = found;
        this.references = true;
      }
    }
    props.name = error.name;
    props.message = error.message;
    props.stack = error.stack;
    if ('cause' in error) props.cause = error.cause;
    for (const key of Object.keys(error)) props[key] = (error as unknown as Record<string, unknown>)[key];
    for (const key of Object.keys(props)) {
      const item = props[key];
      try {
        this.needsMarkers(item, pathOf(where, key), new Set());
        props[key] = this.mark(item, pathOf(where, key));
      } catch {
        // An error's extra fields are best effort: one that cannot cross is dropped.
        delete props[key];
      }
    }
    return marker;
  }

  #reference(fn: Function, where: string): FunctionReference {
    const found = findReference(fn);
    if ('reason' in found) throw failure(where, fn, found.reason, this.purpose);
    this.references = true;
    return found;
  }

  #classReference(value: object, where: string): FunctionReference {
    const ctor = (value as { constructor?: unknown }).constructor;
    if (typeof ctor !== 'function' || ctor.prototype !== Object.getPrototypeOf(value)) {
      throw failure(where, value, 'its class cannot be found', this.purpose);
    }
    const found = findReference(ctor);
    if ('reason' in found) {
      throw failure(where, value, `its class ${ctor.name || '(anonymous)'} cannot be found by reference: ${found.reason}`, this.purpose);
    }
    this.references = true;
    return found;
  }
}

function describeKey(key: unknown): string {
  return typeof key === 'string' ? JSON.stringify(key) : typeof key === 'object' ? '{…}' : String(key);
}

const builtinErrors: Record<string, unknown> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
  AggregateError,
};

/**
 * A serialized value: what {@link dumps} returns and {@link loads} takes.
 *
 * @example
 * ```ts
 * const dumped: mp.reduction.Dumped = mp.reduction.dumps({ id: 7, tags: ['a'] }, 'message');
 * console.log(dumped.fds); // []: plain data carries no descriptors
 * console.log(mp.reduction.loads(dumped.data, dumped.fds)); // { id: 7, tags: [ 'a' ] }
 * ```
 */
export interface Dumped {
  /** The bytes. */
  data: Buffer;
  /** The descriptors that go with them (SCM_RIGHTS), in the sender. */
  fds: number[];
}

/**
 * Serializes `value` for another process, as the package does (docs/API.md
 * section 9). `purpose` says why, in errors (a start method, or `'message'`);
 * `where` labels the value in them (`'args'`).
 *
 * @throws {@link SerializationError} for a value that cannot cross, naming
 * the path to it.
 * @example
 * ```ts
 * const { data, fds } = mp.reduction.dumps({ when: new Date(), lock }, 'message');
 * const copy = mp.reduction.loads(data, fds) as { when: Date; lock: mp.Lock };
 * ```
 */
export function dumps(value: unknown, purpose: string, where = ''): Dumped {
  const { parts, length, fds } = dumpsParts(value, purpose, where);
  return { data: parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, length), fds };
}

export interface DumpedParts {
  /** The message is these parts end to end; big buffers of the value are parts of their own (not copies). */
  parts: Uint8Array[];
  length: number;
  fds: number[];
}

/** dumps() without joining the parts: a sender that writes them one by one copies no big buffer. */
export function dumpsParts(value: unknown, purpose: string, where = ''): DumpedParts {
  if (isJsonData(value, { nodes: JSON_NODE_LIMIT })) {
    const text = JSON.stringify(value);
    const data = Buffer.allocUnsafe(1 + Buffer.byteLength(text));
    data[0] = JSON_TEXT;
    data.write(text, 1);
    return { parts: [data], length: data.byteLength, fds: [] };
  }
  const writer = new Writer(purpose);
  let marked = false;
  if (writer.needsMarkers(value, where, new Set())) {
    value = writer.mark(value, where);
    marked = true;
  }
  // The tag byte goes through the serializer: no copy of the body behind it.
  const serializer = new OutOfBandSerializer();
  const tag = !marked ? PLAIN : writer.references ? MARKED_REFS : MARKED;
  serializer.writeRawBytes(tagBytes[tag]);
  serializer.writeHeader();
  try {
    serializer.writeValue(value);
  } catch (error) {
    throw new SerializationError(
      `cannot send ${where === '' ? 'the value' : where} to another process: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const body = serializer.releaseBuffer();
  if (serializer.segments.length === 0) return { parts: [body], length: body.byteLength, fds: writer.fds };
  const outOfBandTag = !marked ? OUT_OF_BAND_PLAIN : writer.references ? OUT_OF_BAND_MARKED_REFS : OUT_OF_BAND_MARKED;
  const parts = outOfBandParts(outOfBandTag, body.subarray(1), serializer.segments);
  return { parts, length: parts.reduce((n, part) => n + part.byteLength, 0), fds: writer.fds };
}

// ---------------------------------------------------------------- receiving

class Reader implements ReviveContext {
  readonly #memo = new Map<object, unknown>();
  constructor(
    readonly fds: readonly number[],
    readonly loaded: ReadonlyMap<string, Function>,
    /** False for data from a peer that did not prove it holds the authkey: no reference is resolved. */
    readonly trusted: boolean,
    /** Indexes of the descriptors a reducer took: each is taken once, by one owner. */
    readonly claimed: Set<number>,
  ) {}

  fd(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.fds.length) {
      throw new SerializationError(`the message carries no descriptor number ${String(index)}`);
    }
    if (this.claimed.has(index)) throw new SerializationError(`descriptor number ${index} of the message is claimed twice`);
    this.claimed.add(index);
    return this.fds[index];
  }

  revive(value: unknown): unknown {
    if (value === null || typeof value !== 'object' || isLeafObject(value)) return value;
    const done = this.#memo.get(value);
    if (done !== undefined) return done;
    if (isMarker(value)) return this.#reviveMarker(value);
    this.#memo.set(value, value);
    if (Array.isArray(value)) {
      // Keys, not indexes to length: a sparse array of a few bytes may claim a length of 2^32 - 1.
      const array = value as unknown as Record<string, unknown>;
      for (const key of Object.keys(array)) array[key] = this.revive(array[key]);
    } else if (value instanceof Map) {
      const entries = [...value];
      value.clear();
      for (const [key, item] of entries) value.set(this.revive(key), this.revive(item));
    } else if (value instanceof Set) {
      const items = [...value];
      value.clear();
      for (const item of items) value.add(this.revive(item));
    } else {
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) record[key] = this.revive(record[key]);
    }
    return value;
  }

  #function(ref: FunctionReference): Function {
    if (!isReference(ref)) throw new SerializationError('a malformed function reference in a message');
    const loaded = this.loaded.get(referenceKey(ref));
    if (loaded !== undefined) return loaded;
    try {
      return resolveReferenceSync(ref);
    } catch (error) {
      if (error instanceof NeedsImport) {
        throw new SerializationError(
          `cannot load ${describeReference(ref)} synchronously: ${error.message}; receive it with an async ` +
            'call (recv(), get()), which imports it',
          { cause: error },
        );
      }
      if (error instanceof SerializationError) throw error;
      throw new SerializationError(`cannot load ${describeReference(ref)}: ${(error as Error).message}`, { cause: error });
    }
  }

  #reviveMarker(marker: Marker): unknown {
    const { props, fields, id } = marker as { props?: unknown; fields?: unknown; id?: unknown };
    const kind = marker[MARK];
    if ((kind === 'err' && !isRecord(props)) || (kind === 'obj' && !isRecord(fields)) || (kind === 'red' && typeof id !== 'string')) {
      throw new SerializationError(`a malformed '${kind}' marker in a message`);
    }
    switch (marker[MARK]) {
      case 'fn': {
        const fn = this.#function(marker.ref);
        this.#memo.set(marker, fn);
        return fn;
      }
      case 'obj': {
        const cls = this.#function(marker.ref);
        const instance = Object.create(cls.prototype as object) as Record<string, unknown>;
        this.#memo.set(marker, instance);
        for (const key of Object.keys(marker.fields)) instance[key] = this.revive(marker.fields[key]);
        return instance;
      }
      case 'err':
        return this.#reviveError(marker);
      case 'red': {
        const entry = reducersById.get(marker.id) ?? builtinReducer(marker.id);
        if (entry === undefined) {
          throw new SerializationError(`no reducer named "${marker.id}" is registered in this process`);
        }
        let revived: object;
        try {
          revived = entry.reducer.revive(this.revive(marker.state), this);
        } catch (error) {
          if (error instanceof SerializationError) throw error;
          throw new SerializationError(`cannot revive a ${marker.id}: ${(error as Error).message}`, { cause: error });
        }
        this.#memo.set(marker, revived);
        return revived;
      }
      default:
        throw new SerializationError('unknown marker in a message');
    }
  }

  #reviveError(marker: Extract<Marker, { [MARK]: 'err' }>): Error {
    const { props } = marker;
    const name = typeof props.name === 'string' ? props.name : 'Error';
    let error: Error;
    if (marker.ref !== null && this.trusted) {
      let cls: Function | undefined;
      try {
        cls = this.#function(marker.ref);
      } catch {
        cls = undefined;
      }
      error = Object.create((cls ?? Error).prototype as object) as Error;
    } else {
      const builtin = builtinErrors[name] as ErrorConstructor | undefined;
      error = Object.create((builtin ?? Error).prototype as object) as Error;
    }
    this.#memo.set(marker, error);
    for (const key of Object.keys(props)) {
      const value = this.revive(props[key]);
      if (key === 'name' && value === error.name) continue;
      Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable: !standardErrorKeys.has(key) });
    }
    return error;
  }
}

const standardErrorKeys = new Set(['name', 'message', 'stack', 'cause']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isReference(value: unknown): value is FunctionReference {
  if (!isRecord(value)) return false;
  return (
    typeof value.module === 'string' &&
    (value.name === null || typeof value.name === 'string') &&
    Number.isInteger(value.line) &&
    Number.isInteger(value.column)
  );
}

function referenceKey(ref: FunctionReference): string {
  return `${ref.module}\u0000${ref.name ?? ''}`;
}

interface Decoded {
  value: unknown;
  marked: boolean;
  /** Some marker names a function or a class. */
  references: boolean;
}

function decode(data: Uint8Array): Decoded {
  try {
    return decodeTagged(data);
  } catch (error) {
    if (error instanceof SerializationError) throw error;
    throw new SerializationError(`a malformed message: ${(error as Error).message}`, { cause: error });
  }
}

function decodeTagged(data: Uint8Array): Decoded {
  if (data.length < 1) throw new SerializationError('empty message');
  const buffer = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const tag = buffer[0];
  if (tag === JSON_TEXT) return { value: JSON.parse(buffer.toString('utf8', 1)), marked: false, references: false };
  if (tag === OUT_OF_BAND_PLAIN || tag === OUT_OF_BAND_MARKED || tag === OUT_OF_BAND_MARKED_REFS) {
    return { value: readOutOfBand(buffer), marked: tag !== OUT_OF_BAND_PLAIN, references: tag === OUT_OF_BAND_MARKED_REFS };
  }
  if (tag !== PLAIN && tag !== MARKED && tag !== MARKED_REFS) {
    throw new SerializationError(
      `a message with the unknown tag ${tag}: not one send() or put() wrote (bytes sent with sendBytes() are read with recvBytes())`,
    );
  }
  return { value: v8.deserialize(buffer.subarray(1)), marked: tag !== PLAIN, references: tag === MARKED_REFS };
}

/** @inline What {@link loads} and {@link loadsAsync} take. */
export interface LoadOptions {
  /**
   * False for data from a peer that did not authenticate with an authkey:
   * it may carry data only, and a function or class reference or one of
   * the package's objects is a SerializationError before anything loads.
   */
  trusted?: boolean;
  /**
   * The descriptors are the receiver's to own: those that no revived
   * object took are closed, whether loading succeeds or fails.
   */
  ownsFds?: boolean;
}

/**
 * Deserializes what {@link dumps} made, synchronously. References to ES
 * modules resolve without import(): loaded ones, and in a fork child the
 * functions it already has; a module with top-level await that this process
 * never loaded needs {@link loadsAsync} ({@link SerializationError} here).
 *
 * @example
 * ```ts
 * const { data, fds } = mp.reduction.dumps(new Map([['answer', 42]]), 'message');
 * const copy = mp.reduction.loads(data, fds) as Map<string, number>;
 * console.log(copy.get('answer')); // 42
 * ```
 */
export function loads(data: Uint8Array, fds: readonly number[] = [], options: LoadOptions = {}): unknown {
  const claimed = new Set<number>();
  try {
    const { value, marked } = decode(data);
    if (!marked) return value;
    return reviveSync(value, fds, options.trusted !== false, claimed);
  } finally {
    if (options.ownsFds === true) closeUnclaimed(fds, claimed);
  }
}

/**
 * Deserializes what {@link dumps} made, importing with import() the modules
 * that references name and nothing else can load.
 *
 * @example
 * ```ts
 * // a message naming an exported function: its module is imported if need be
 * const { data, fds } = mp.reduction.dumps({ fn: square, args: [3] }, 'message');
 * const { fn, args } = (await mp.reduction.loadsAsync(data, fds)) as { fn: typeof square; args: [number] };
 * console.log(fn(...args)); // 9
 * ```
 */
export async function loadsAsync(data: Uint8Array, fds: readonly number[] = [], options: LoadOptions = {}): Promise<unknown> {
  return loadsWhenReady(data, fds, options);
}

/**
 * loadsAsync() without a promise when none is needed: only a message that
 * names functions or classes may have to wait for import().
 */
export function loadsWhenReady(data: Uint8Array, fds: readonly number[] = [], options: LoadOptions = {}): unknown {
  const claimed = new Set<number>();
  let result: unknown;
  try {
    const decoded = decode(data);
    if (!decoded.marked) {
      result = decoded.value;
    } else if (options.trusted === false || !decoded.references) {
      // The sender's tag is a hint for trusted peers only.
      result = reviveSync(decoded.value, fds, options.trusted !== false, claimed);
    } else {
      result = reviveWithImports(decoded.value, fds, claimed);
    }
  } catch (error) {
    if (options.ownsFds === true) closeUnclaimed(fds, claimed);
    throw error;
  }
  if (options.ownsFds !== true) return result;
  if (result instanceof Promise) return result.finally(() => closeUnclaimed(fds, claimed));
  closeUnclaimed(fds, claimed);
  return result;
}

function reviveSync(value: unknown, fds: readonly number[], trusted: boolean, claimed: Set<number>): unknown {
  if (!trusted) refuseNonData(value);
  return new Reader(fds, noneLoaded, trusted, claimed).revive(value);
}

function closeUnclaimed(fds: readonly number[], claimed: ReadonlySet<number>): void {
  for (let index = 0; index < fds.length; index++) {
    if (claimed.has(index)) continue;
    try {
      native.closeFd(fds[index]);
    } catch {
      // already closed: nothing to own
    }
  }
}

/**
 * Throws SerializationError for the first marker that would load code or
 * open an OS object (functions, classes, the package's objects) or that
 * is not a marker this package writes. An error's class is not loaded:
 * it revives as the built-in error of its name.
 */
function refuseNonData(root: unknown): void {
  forEachMarker(root, (marker) => {
    if (marker[MARK] === 'err') return;
    throw new SerializationError(
      `refused ${describeUntrustedMarker(marker)} from a peer that did not authenticate with an authkey: ` +
        'such a connection carries data only (give Listener and Client the same authkey to send functions, ' +
        'classes and the package\'s objects)',
    );
  });
}

/**
 * Calls `visit` for every marker in a decoded value, each object once.
 * Iterative (a deep message cannot overflow the stack) and by keys, not
 * indexes to length: a sparse array claims any length for free.
 */
function forEachMarker(root: unknown, visit: (marker: Marker) => void): void {
  const seen = new Set<object>();
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (value === null || typeof value !== 'object' || seen.has(value) || isLeafObject(value)) continue;
    seen.add(value);
    if (isMarker(value)) visit(value);
    if (value instanceof Map) {
      for (const [key, item] of value) pending.push(key, item);
    } else if (value instanceof Set) {
      for (const item of value) pending.push(item);
    } else {
      for (const key of Object.keys(value)) pending.push((value as Record<string, unknown>)[key]);
    }
  }
}

function describeUntrustedMarker(marker: object): string {
  const { [MARK]: kind, ref, id } = marker as { [MARK]: unknown; ref?: unknown; id?: unknown };
  const named = (what: string): string => {
    const target = ref as { module?: unknown; name?: unknown } | null | undefined;
    if (target === null || typeof target !== 'object') return what;
    const name = typeof target.name === 'string' ? target.name : 'module.exports';
    return typeof target.module === 'string' ? `${what} (${name} of ${JSON.stringify(target.module)})` : what;
  };
  if (kind === 'fn') return named('a function reference');
  if (kind === 'obj') return named('an instance of a class by reference');
  if (kind === 'red') return `one of the package's objects${typeof id === 'string' ? ` (${JSON.stringify(id)})` : ''}`;
  return 'an unknown marker';
}

async function reviveWithImports(value: unknown, fds: readonly number[], claimed: Set<number>): Promise<unknown> {
  const references = new Map<string, FunctionReference>();
  collectReferences(value, references);
  const loaded = new Map<string, Function>();
  for (const [key, ref] of references) {
    try {
      loaded.set(key, await resolveReferenceAsync(ref));
    } catch (error) {
      throw new SerializationError(`cannot load ${describeReference(ref)}: ${(error as Error).message}`, { cause: error });
    }
  }
  return new Reader(fds, loaded, true, claimed).revive(value);
}

const noneLoaded: ReadonlyMap<string, Function> = new Map();

function collectReferences(value: unknown, into: Map<string, FunctionReference>): void {
  forEachMarker(value, (marker) => {
    if (marker[MARK] !== 'fn' && marker[MARK] !== 'obj' && marker[MARK] !== 'err') return;
    const ref: unknown = (marker as { ref?: unknown }).ref;
    if (isReference(ref)) into.set(referenceKey(ref), ref);
  });
}
