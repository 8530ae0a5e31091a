// Value, Array, RawValue and RawArray (CPython's sharedctypes.py): typed
// numbers in the shared heap (heap.ts), with an optional lock that every
// access of the synchronized wrappers takes, as Python's do.
import { SerializationError } from '../errors';
import { allocate, freeWhenCollected, reduceBlock, reviveBlock, type Block, type BlockState } from './heap';
import { register as registerReducer, registerForInstances, registerInstance, type ReduceContext, type ReviveContext } from '../serialize/reduction';
import { Lock, RLock } from '../synchronize';

/**
 * A C type, by Python's `array`/`ctypes` codes: `'b'`/`'B'` signed/unsigned
 * char, `'h'`/`'H'` short, `'i'`/`'I'` int, `'l'`/`'L'` long (8 bytes on
 * 64-bit Linux and macOS), `'q'`/`'Q'` long long, `'f'` float, `'d'` double,
 * `'c'` char. `'l'`, `'L'`, `'q'` and `'Q'` values are bigints, `'c'` values
 * one-byte strings, the others numbers.
 *
 * @category Shared memory
 * @example
 * ```ts
 * const code: mp.TypeCode = 'd';
 * const temperature = mp.Value(code, 20.5);
 * ```
 */
export type TypeCode = 'b' | 'B' | 'h' | 'H' | 'i' | 'I' | 'l' | 'L' | 'q' | 'Q' | 'f' | 'd' | 'c';

/**
 * The typed arrays that hold shared C values (see {@link TypedArrayByCode}).
 *
 * @category Shared memory
 * @example
 * ```ts
 * const arrays: mp.SharedTypedArray[] = [mp.RawArray('i', 4), mp.RawArray('d', 4), mp.RawArray('q', 4)];
 * for (const array of arrays) console.log(array.constructor.name, array.length); // Int32Array 4, …
 * ```
 */
export type SharedTypedArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/**
 * A number for most typecodes, a bigint for `'l'`, `'L'`, `'q'`, `'Q'`, a
 * one-character string for `'c'`.
 *
 * @category Shared memory
 * @example
 * ```ts
 * function show(shared: mp.SharedValue): string {
 *   const scalar: mp.SharedScalar = shared.value; // number, bigint or string, by typecode
 *   return `${shared.typecode}: ${scalar}`;
 * }
 * ```
 */
export type SharedScalar = number | bigint | string;

/**
 * The JavaScript type of one element of typecode `C` (a
 * {@link SharedScalar} when C is not known).
 *
 * @category Shared memory
 * @example
 * ```ts
 * const total: mp.ScalarOf<'q'> = 0n; // bigint
 * const ratio: mp.ScalarOf<'d'> = 0.5; // number
 * const letter: mp.ScalarOf<'c'> = 'x'; // string
 * const big = mp.Value('q', total);
 * ```
 */
export type ScalarOf<C extends TypeCode> = TypeCode extends C ? SharedScalar : C extends 'c' ? string : C extends 'l' | 'L' | 'q' | 'Q' ? bigint : number;

/**
 * The typed array that holds elements of each typecode.
 *
 * @category Shared memory
 * @example
 * ```ts
 * const samples: mp.TypedArrayByCode['d'] = mp.RawArray('d', 100); // a Float64Array
 * const counts: mp.TypedArrayByCode['Q'] = mp.RawArray('Q', 8); // a BigUint64Array
 * ```
 */
export interface TypedArrayByCode {
  /** `'b'`: signed char. */
  b: Int8Array;
  /** `'B'`: unsigned char. */
  B: Uint8Array;
  /** `'h'`: short. */
  h: Int16Array;
  /** `'H'`: unsigned short. */
  H: Uint16Array;
  /** `'i'`: int. */
  i: Int32Array;
  /** `'I'`: unsigned int. */
  I: Uint32Array;
  /** `'l'`: long. */
  l: BigInt64Array;
  /** `'L'`: unsigned long. */
  L: BigUint64Array;
  /** `'q'`: long long. */
  q: BigInt64Array;
  /** `'Q'`: unsigned long long. */
  Q: BigUint64Array;
  /** `'f'`: float. */
  f: Float32Array;
  /** `'d'`: double. */
  d: Float64Array;
  /** `'c'`: char (one-byte strings through Value and Array). */
  c: Uint8Array;
}

interface TypedArrayClass {
  new (buffer: ArrayBuffer, byteOffset: number, length: number): SharedTypedArray;
  readonly BYTES_PER_ELEMENT: number;
}

// C's sizes on LP64 (Linux and macOS on 64-bit machines): long is 8 bytes.
export const typedArrayOf: Record<TypeCode, TypedArrayClass> = {
  b: Int8Array,
  B: Uint8Array,
  h: Int16Array,
  H: Uint16Array,
  i: Int32Array,
  I: Uint32Array,
  l: BigInt64Array,
  L: BigUint64Array,
  q: BigInt64Array,
  Q: BigUint64Array,
  f: Float32Array,
  d: Float64Array,
  c: Uint8Array,
};
const TYPECODES = Object.keys(typedArrayOf).map((code) => `'${code}'`).join(', ');

function checkTypecode(typecode: unknown): TypeCode {
  if (typeof typecode !== 'string') throw new TypeError(`The "typecode" argument must be a string, one of ${TYPECODES}; received ${typeof typecode}`);
  if (!Object.prototype.hasOwnProperty.call(typedArrayOf, typecode)) {
    throw new RangeError(`The "typecode" argument must be one of ${TYPECODES}; received '${typecode}'`);
  }
  return typecode as TypeCode;
}

function isBigIntCode(typecode: TypeCode): boolean {
  return typecode === 'l' || typecode === 'L' || typecode === 'q' || typecode === 'Q';
}

/** The element `value` for `typecode`, as its typed array stores it. */
function toElement(typecode: TypeCode, value: unknown, what: string): number | bigint {
  if (typecode === 'c') {
    if (typeof value === 'string' && value.length === 1 && value.charCodeAt(0) < 256) return value.charCodeAt(0);
    throw new TypeError(`${what} must be a one-character string (one byte) for typecode 'c'; received ${JSON.stringify(value)}`);
  }
  if (isBigIntCode(typecode)) {
    if (typeof value === 'bigint') return value;
    if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
    throw new TypeError(`${what} must be a bigint (or an integer number) for typecode '${typecode}'; received ${typeof value}`);
  }
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  throw new TypeError(`${what} must be a number for typecode '${typecode}'; received ${typeof value}`);
}

function fromElement(typecode: TypeCode, element: number | bigint): SharedScalar {
  return typecode === 'c' ? String.fromCharCode(element as number) : element;
}

function viewOf(typecode: TypeCode, block: Block, length: number): SharedTypedArray {
  return new typedArrayOf[typecode](block.arena.buffer, block.offset, length);
}

const blocks = new WeakMap<SharedTypedArray, { typecode: TypeCode; block: Block }>();
const RAW_ARRAY_ID = 'multiprocessing.sharedctypes.RawArray';

/** A zeroed typed array of `length` elements in the shared heap. */
function allocateArray(typecode: TypeCode, length: number): SharedTypedArray {
  const block = allocate(Math.max(length * typedArrayOf[typecode].BYTES_PER_ELEMENT, 1));
  const array = viewOf(typecode, block, length);
  freeWhenCollected(array, block);
  blocks.set(array, { typecode, block });
  registerInstance(array, RAW_ARRAY_ID);
  return array;
}

function checkSizeOrInit(typecode: TypeCode, sizeOrInit: unknown): { length: number; init: ArrayLike<unknown> | null } {
  if (typeof sizeOrInit === 'number') {
    if (!Number.isSafeInteger(sizeOrInit) || sizeOrInit < 0) {
      throw new RangeError(`The "sizeOrInit" argument must be a non-negative integer or an array-like; received ${sizeOrInit}`);
    }
    return { length: sizeOrInit, init: null };
  }
  if (typeof sizeOrInit === 'string' && typecode === 'c') return { length: Buffer.byteLength(sizeOrInit, 'latin1'), init: Array.from(sizeOrInit) };
  if (sizeOrInit !== null && typeof sizeOrInit === 'object' && typeof (sizeOrInit as ArrayLike<unknown>).length === 'number') {
    const init = sizeOrInit as ArrayLike<unknown>;
    return { length: init.length, init };
  }
  throw new TypeError(`The "sizeOrInit" argument must be a size or an array-like of initial values; received ${typeof sizeOrInit}`);
}

function fill(typecode: TypeCode, array: SharedTypedArray, init: ArrayLike<unknown> | null): void {
  if (init === null) return;
  if (typecode === 'c' && init instanceof Uint8Array) {
    (array as Uint8Array).set(init);
    return;
  }
  for (let i = 0; i < init.length; i++) (array as unknown as Array<number | bigint>)[i] = toElement(typecode, init[i], `sizeOrInit[${i}]`);
}

/**
 * A typed array over shared memory, with no lock (Python's
 * `multiprocessing.RawArray`): an `Int32Array` for `'i'`, a `Float64Array`
 * for `'d'`, … (see {@link TypedArrayByCode}). `sizeOrInit` is a length
 * (zeroed) or the initial values (a string for `'c'`). It crosses to other
 * processes as the same memory.
 *
 * @throws TypeError or RangeError for an unknown typecode, a bad size or an
 * initial value of the wrong type.
 * @category Shared memory
 * @example
 * ```ts
 * const samples = mp.RawArray('d', 1000); // a Float64Array of 1000 zeros
 * new mp.Process({ target: fill, args: [samples] }).start(); // fill (exported) writes into it
 * ```
 */
export function RawArray<C extends TypeCode>(typecode: C, sizeOrInit: number | ArrayLike<ScalarOf<C>> | string): TypedArrayByCode[C] {
  const code = checkTypecode(typecode);
  const { length, init } = checkSizeOrInit(code, sizeOrInit);
  const array = allocateArray(code, length);
  fill(code, array, init);
  return array as TypedArrayByCode[C];
}

/**
 * A C value in shared memory with no lock: what {@link RawValue} and
 * `Value(…, { lock: false })` return. `value` reads and writes it; it
 * crosses to other processes as the same memory.
 *
 * @category Shared memory
 * @example
 * ```ts
 * const flag = mp.RawValue('b'); // a SharedValue<'b'>, 0
 * flag.value = 1;
 * console.log(flag.getObj()); // Int8Array(1) [ 1 ]
 * ```
 */
export class SharedValue<C extends TypeCode = TypeCode> {
  readonly #typecode: C;
  readonly #obj: SharedTypedArray;

  /**
   * A new value of `typecode`, `init` or zero ({@link RawValue} is the usual
   * way). `obj` is the package's: an existing one-element array to wrap.
   */
  constructor(typecode: C, init?: ScalarOf<C>, obj?: SharedTypedArray) {
    this.#typecode = checkTypecode(typecode) as C;
    this.#obj = obj ?? allocateArray(this.#typecode, 1);
    if (obj === undefined && init !== undefined) this.value = init;
  }

  /** The value, read from shared memory. */
  get value(): ScalarOf<C> {
    return fromElement(this.#typecode, this.#obj[0]) as ScalarOf<C>;
  }

  /** Writes the value. @throws TypeError for a value of the wrong type for the typecode. */
  set value(value: ScalarOf<C>) {
    (this.#obj as unknown as Array<number | bigint>)[0] = toElement(this.#typecode, value, 'The "value"');
  }

  /** The C type of the value. */
  get typecode(): C {
    return this.#typecode;
  }

  /** The one-element typed array over the shared value. */
  getObj(): TypedArrayByCode[C] {
    return this.#obj as TypedArrayByCode[C];
  }

  /** As Python shows it: `c_i(5)`. */
  toString(): string {
    return `c_${this.#typecode}(${String(this.value)})`;
  }
}

/**
 * A single C value in shared memory, with no lock (Python's
 * `multiprocessing.RawValue`): a {@link SharedValue}, `init` or zero.
 *
 * @category Shared memory
 * @example
 * ```ts
 * const done = mp.RawValue('i', 0);
 * done.value = 1; // seen by every process that has it
 * ```
 */
export function RawValue<C extends TypeCode>(typecode: C, init?: ScalarOf<C>): SharedValue<C> {
  return new SharedValue(checkTypecode(typecode) as C, init);
}

/**
 * The lock of a synchronized value or array.
 *
 * @category Shared memory
 * @example
 * ```ts
 * const lock: mp.SharedLock = new mp.Lock();
 * const count = mp.Value('i', 0, { lock });
 * const totals = mp.Array('d', 10, { lock }); // one lock guards both
 * console.log(count.getLock() === totals.getLock()); // true
 * ```
 */
export type SharedLock = Lock | RLock;

function checkLock(lock: unknown): SharedLock | null {
  if (lock === undefined || lock === true) return new RLock();
  if (lock === false) return null;
  if (lock instanceof Lock || lock instanceof RLock) return lock;
  throw new TypeError('The "options.lock" property must be a boolean, a Lock or an RLock');
}

/**
 * What {@link Value} and {@link Array} take.
 *
 * @category Shared memory
 * @example
 * ```ts
 * function counter(options: mp.SharedOptions = {}) {
 *   return mp.Value('i', 0, options); // a SynchronizedValue, or with lock: false a SharedValue
 * }
 * const guarded = counter({ lock: new mp.Lock() });
 * ```
 */
export interface SharedOptions {
  /** true (default): a new RLock; false: no lock (a RawValue / RawArray); or the Lock/RLock to use. */
  lock?: boolean | SharedLock;
}

/**
 * What {@link Value} returns: a C value in shared memory whose every read
 * and write of `value` takes its lock (re-entrant for an RLock). A
 * read-modify-write such as `+=` is two steps: hold the lock around it with
 * `withLock()`.
 *
 * @category Shared memory
 * @example
 * ```ts
 * const counter = mp.Value('i', 0);
 * await counter.withLock(() => {
 *   counter.value += 1;
 * });
 * ```
 */
export class SynchronizedValue<C extends TypeCode = TypeCode> extends SharedValue<C> {
  readonly #lock: SharedLock;

  /**
   * A new value guarded by `lock` ({@link Value} is the usual way). `obj` is
   * the package's: an existing one-element array to wrap.
   */
  constructor(typecode: C, init: ScalarOf<C> | undefined, lock: SharedLock, obj?: SharedTypedArray) {
    super(typecode, undefined, obj);
    this.#lock = lock;
    if (init !== undefined) super.value = init;
  }

  /** The value, read under the lock. */
  override get value(): ScalarOf<C> {
    this.#lock.acquireSync();
    try {
      return super.value;
    } finally {
      this.#lock.release();
    }
  }

  /** Writes the value under the lock. */
  override set value(value: ScalarOf<C>) {
    this.#lock.acquireSync();
    try {
      super.value = value;
    } finally {
      this.#lock.release();
    }
  }

  /** The lock every access takes. */
  getLock(): SharedLock {
    return this.#lock;
  }

  /** Runs `fn` holding the lock (see {@link Lock.withLock}). */
  withLock<R>(fn: () => R | Promise<R>): Promise<R> {
    return this.#lock.withLock(fn);
  }

  /** As Python shows it: `<Synchronized wrapper for c_i(5)>`. */
  override toString(): string {
    return `<Synchronized wrapper for ${super.toString()}>`;
  }
}

/**
 * A C value in shared memory (Python's `multiprocessing.Value`), `init` or
 * zero: a {@link SynchronizedValue} whose reads and writes take a lock (a
 * new {@link RLock} by default, or the Lock or RLock given); with
 * `{ lock: false }`, a {@link SharedValue}. See {@link TypeCode} for the
 * JavaScript type of each code.
 *
 * @throws TypeError or RangeError for an unknown typecode or an `init` of
 * the wrong type.
 * @category Shared memory
 * @example
 * ```ts
 * const total = mp.Value('d', 0);
 * const workers = [1, 2, 3].map((n) => new mp.Process({ target: add, args: [total, n] })); // add: exported
 * workers.forEach((w) => w.start());
 * await Promise.all(workers.map((w) => w.join()));
 * console.log(total.value); // 6
 * ```
 */
export function Value<C extends TypeCode>(typecode: C, init?: ScalarOf<C>, options?: { lock?: true | SharedLock }): SynchronizedValue<C>;
/** With `{ lock: false }`: a {@link SharedValue}, no lock. */
export function Value<C extends TypeCode>(typecode: C, init: ScalarOf<C> | undefined, options: { lock: false }): SharedValue<C>;
/** With a `lock` option not known statically: either. */
export function Value<C extends TypeCode>(typecode: C, init?: ScalarOf<C>, options?: SharedOptions): SynchronizedValue<C> | SharedValue<C>;
export function Value<C extends TypeCode>(typecode: C, init?: ScalarOf<C>, options: SharedOptions = {}): SynchronizedValue<C> | SharedValue<C> {
  const code = checkTypecode(typecode) as C;
  if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
  if (init !== undefined) toElement(code, init, 'The "init" argument');
  const lock = checkLock(options.lock);
  return lock === null ? new SharedValue(code, init) : new SynchronizedValue(code, init, lock);
}

function indexOf(property: string | symbol, length: number): number | null {
  if (typeof property !== 'string' || property === '') return null;
  const c = property.charCodeAt(0);
  if (!((c >= 48 && c <= 57) || c === 45)) return null;
  const n = Number(property);
  if (!Number.isInteger(n) || String(n) !== property) return null;
  const i = n < 0 ? n + length : n;
  if (i < 0 || i >= length) throw new RangeError(`index ${property} is out of range (length ${length})`);
  return i;
}

/**
 * What {@link Array} returns: an array in shared memory whose reads and
 * writes of `arr[i]` (negative `i` counts from the end) take its lock; `raw`
 * is the typed array without it. Hold the lock with `withLock()` to make
 * several accesses one step. It crosses to other processes as the same
 * memory and lock.
 *
 * @category Shared memory
 * @example
 * ```ts
 * const arr = mp.Array('d', [1.5, 2.5]);
 * arr[1] = 3;
 * console.log(arr.length, arr[1], [...arr]); // 2 3 [ 1.5, 3 ]
 * ```
 */
export class SynchronizedArray<C extends TypeCode = TypeCode> {
  readonly #typecode: C;
  readonly #obj: SharedTypedArray;
  readonly #lock: SharedLock;
  /** Element `index`, read or written under the lock (RangeError out of range). */
  [index: number]: ScalarOf<C>;

  /**
   * Wraps `obj`, a typed array over shared memory, with `lock`
   * ({@link Array} is the usual way).
   */
  constructor(typecode: C, obj: SharedTypedArray, lock: SharedLock) {
    this.#typecode = typecode;
    this.#obj = obj;
    this.#lock = lock;
    const methods = new Map<PropertyKey, unknown>();
    // arr[i] goes through the proxy; everything else is the object itself.
    return new Proxy(this, {
      get: (target, property) => {
        const i = indexOf(property, target.#obj.length);
        if (i !== null) return target.getItem(i);
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        let bound = methods.get(property);
        if (bound === undefined) methods.set(property, (bound = (value as Function).bind(target)));
        return bound;
      },
      set: (target, property, value) => {
        const i = indexOf(property, target.#obj.length);
        if (i === null) return Reflect.set(target, property, value, target);
        target.setItem(i, value as ScalarOf<C>);
        return true;
      },
      has: (target, property) => {
        try {
          if (indexOf(property, target.#obj.length) !== null) return true;
        } catch {
          return false;
        }
        return Reflect.has(target, property);
      },
    });
  }

  /** How many elements the array has. */
  get length(): number {
    return this.#obj.length;
  }

  /** The C type of the elements. */
  get typecode(): C {
    return this.#typecode;
  }

  /** The typed array over the shared memory, without the lock. */
  get raw(): TypedArrayByCode[C] {
    return this.#obj as TypedArrayByCode[C];
  }

  /**
   * For typecode `'c'`: the bytes up to the first NUL, as a string (Python's
   * `.value` of a char array).
   *
   * @throws TypeError for another typecode.
   */
  get value(): string {
    if (this.#typecode !== 'c') throw new TypeError(`value is for typecode 'c' arrays; this one is '${this.#typecode}'`);
    return this.#locked(() => {
      const bytes = this.#obj as Uint8Array;
      const end = bytes.indexOf(0);
      return Buffer.from(bytes.buffer, bytes.byteOffset, end < 0 ? bytes.length : end).toString('latin1');
    });
  }

  /**
   * For typecode `'c'`: writes `text` (latin1) and a NUL after it if there is room.
   *
   * @throws TypeError for another typecode; RangeError when it does not fit.
   */
  set value(text: string) {
    if (this.#typecode !== 'c') throw new TypeError(`value is for typecode 'c' arrays; this one is '${this.#typecode}'`);
    if (typeof text !== 'string') throw new TypeError('The "value" must be a string');
    const bytes = Buffer.from(text, 'latin1');
    if (bytes.length > this.#obj.length) throw new RangeError(`The "value" is ${bytes.length} bytes; the array holds ${this.#obj.length}`);
    this.#locked(() => {
      (this.#obj as Uint8Array).set(bytes);
      if (bytes.length < this.#obj.length) (this.#obj as Uint8Array)[bytes.length] = 0;
    });
  }

  /**
   * Element `index` (negative counts from the end), read under the lock: what
   * `arr[index]` does.
   *
   * @throws RangeError for an index out of range.
   */
  getItem(index: number): ScalarOf<C> {
    const i = this.#checkIndex(index);
    return this.#locked(() => fromElement(this.#typecode, this.#obj[i]) as ScalarOf<C>);
  }

  /**
   * Writes element `index` under the lock: what `arr[index] = value` does.
   *
   * @throws RangeError for an index out of range; TypeError for a value of the
   * wrong type.
   */
  setItem(index: number, value: ScalarOf<C>): void {
    const i = this.#checkIndex(index);
    const element = toElement(this.#typecode, value, 'The "value"');
    this.#locked(() => {
      (this.#obj as unknown as Array<number | bigint>)[i] = element;
    });
  }

  /** The lock every element access takes. */
  getLock(): SharedLock {
    return this.#lock;
  }

  /** The typed array over the shared memory (the same as `raw`). */
  getObj(): TypedArrayByCode[C] {
    return this.#obj as TypedArrayByCode[C];
  }

  /** Runs `fn` holding the lock (see {@link Lock.withLock}). */
  withLock<R>(fn: () => R | Promise<R>): Promise<R> {
    return this.#lock.withLock(fn);
  }

  /** A copy of the elements, read under the lock. */
  toArray(): Array<ScalarOf<C>> {
    return this.#locked(() => Array.from(this.#obj as ArrayLike<number | bigint>, (e) => fromElement(this.#typecode, e) as ScalarOf<C>));
  }

  /** The elements in order, each read under the lock. */
  *[Symbol.iterator](): IterableIterator<ScalarOf<C>> {
    for (let i = 0; i < this.#obj.length; i++) yield this.getItem(i);
  }

  /** As Python shows it: `<SynchronizedArray wrapper for c_i_Array_4>`. */
  toString(): string {
    return `<SynchronizedArray wrapper for c_${this.#typecode}_Array_${this.#obj.length}>`;
  }

  #checkIndex(index: unknown): number {
    if (typeof index !== 'number' || !Number.isInteger(index)) throw new TypeError(`The "index" argument must be an integer; received ${String(index)}`);
    const i = index < 0 ? index + this.#obj.length : index;
    if (i < 0 || i >= this.#obj.length) throw new RangeError(`The "index" argument is out of range: ${index} (length ${this.#obj.length})`);
    return i;
  }

  #locked<R>(fn: () => R): R {
    this.#lock.acquireSync();
    try {
      return fn();
    } finally {
      this.#lock.release();
    }
  }
}

/**
 * An array of C values in shared memory (Python's `multiprocessing.Array`;
 * exported as `Array`): a {@link SynchronizedArray} whose element reads and
 * writes take a lock (a new {@link RLock} by default, or the Lock or RLock
 * given); with `{ lock: false }`, the typed array itself, as
 * {@link RawArray}. `sizeOrInit` is a length (zeroed) or the initial values
 * (a string for `'c'`).
 *
 * @throws TypeError or RangeError for an unknown typecode, a bad size or an
 * initial value of the wrong type.
 * @category Shared memory
 * @example
 * ```ts
 * const counts = mp.Array('i', 4); // 4 int32, zeroed
 * await counts.withLock(() => {
 *   counts[0] = (counts[0] as number) + 1;
 * });
 * console.log(counts.toArray()); // [ 1, 0, 0, 0 ]
 * ```
 */
export function Array_<C extends TypeCode>(typecode: C, sizeOrInit: number | ArrayLike<ScalarOf<C>> | string, options?: { lock?: true | SharedLock }): SynchronizedArray<C>;
/** With `{ lock: false }`: the typed array itself, no lock. */
export function Array_<C extends TypeCode>(typecode: C, sizeOrInit: number | ArrayLike<ScalarOf<C>> | string, options: { lock: false }): TypedArrayByCode[C];
/** With a `lock` option not known statically: either. */
export function Array_<C extends TypeCode>(
  typecode: C,
  sizeOrInit: number | ArrayLike<ScalarOf<C>> | string,
  options?: SharedOptions,
): SynchronizedArray<C> | TypedArrayByCode[C];
export function Array_<C extends TypeCode>(
  typecode: C,
  sizeOrInit: number | ArrayLike<ScalarOf<C>> | string,
  options: SharedOptions = {},
): SynchronizedArray<C> | TypedArrayByCode[C] {
  const code = checkTypecode(typecode) as C;
  if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
  const { length, init } = checkSizeOrInit(code, sizeOrInit);
  const lock = checkLock(options.lock);
  const array = allocateArray(code, length);
  fill(code, array, init);
  return lock === null ? (array as TypedArrayByCode[C]) : new SynchronizedArray(code, array, lock);
}

// ------------------------------------------------------------ crossing
interface ArrayState {
  typecode: TypeCode;
  length: number;
  block: BlockState;
}

function reduceArray(array: SharedTypedArray, context: ReduceContext): ArrayState {
  const entry = blocks.get(array);
  if (entry === undefined) throw new TypeError('not a RawArray of this package');
  return { typecode: entry.typecode, length: array.length, block: reduceBlock(entry.block, context) };
}

function reviveArray(state: ArrayState, context: ReviveContext): SharedTypedArray {
  const block = reviveBlock(state.block, context);
  const ctor = Object.prototype.hasOwnProperty.call(typedArrayOf, state.typecode) ? typedArrayOf[state.typecode] : undefined;
  if (ctor === undefined || !Number.isSafeInteger(state.length) || state.length < 0 || state.length * ctor.BYTES_PER_ELEMENT > block.size) {
    throw new SerializationError('a shared array whose type or length does not fit its block');
  }
  const array = viewOf(state.typecode, block, state.length);
  blocks.set(array, { typecode: state.typecode, block });
  registerInstance(array, RAW_ARRAY_ID);
  return array;
}

registerForInstances<SharedTypedArray, ArrayState>(RAW_ARRAY_ID, { reduce: reduceArray, revive: reviveArray });

registerReducer<SharedValue, { typecode: TypeCode; obj: SharedTypedArray }>(
  'multiprocessing.sharedctypes.SharedValue',
  SharedValue as unknown as abstract new () => SharedValue,
  {
    reduce: (value) => ({ typecode: value.typecode, obj: value.getObj() }),
    revive: (state) => new SharedValue(state.typecode, undefined, state.obj),
  },
);

registerReducer<SynchronizedValue, { typecode: TypeCode; obj: SharedTypedArray; lock: SharedLock }>(
  'multiprocessing.sharedctypes.SynchronizedValue',
  SynchronizedValue as unknown as abstract new () => SynchronizedValue,
  {
    reduce: (value) => ({ typecode: value.typecode, obj: value.getObj(), lock: value.getLock() }),
    revive: (state) => new SynchronizedValue(state.typecode, undefined, state.lock, state.obj),
  },
);

registerReducer<SynchronizedArray, { typecode: TypeCode; obj: SharedTypedArray; lock: SharedLock }>(
  'multiprocessing.sharedctypes.SynchronizedArray',
  SynchronizedArray as unknown as abstract new () => SynchronizedArray,
  {
    reduce: (array) => ({ typecode: array.typecode, obj: array.getObj(), lock: array.getLock() }),
    revive: (state) => new SynchronizedArray(state.typecode, state.obj, state.lock),
  },
);
