// The containers a manager's server holds: list, dict, Namespace, Value
// and Array (Python's SyncManager registers list, dict, Namespace, Value
// and array.array). Their methods are Python's in camelCase; the dunder
// ones take JavaScript's names (get, set, delete, has, length).
import { isDeepStrictEqual } from 'node:util';

import { typedArrayOf, type SharedTypedArray, type TypeCode } from '../sharedmem/sharedctypes';

export const VALUE_OF = Symbol('multiprocessing.managers.valueOf');

/** Python's == for what crosses: equal numbers, strings, and structurally equal containers. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    // eslint-disable-next-line eqeqeq
    return a == b;
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return isDeepStrictEqual(a, b);
}

class IndexError extends RangeError {
  override name = 'IndexError';
}

class KeyError extends Error {
  override name = 'KeyError';
}

class ValueError extends Error {
  override name = 'ValueError';
}

class AttributeError extends Error {
  override name = 'AttributeError';
}

function checkIndex(index: unknown, length: number, what: string): number {
  if (typeof index !== 'number' || !Number.isInteger(index)) throw new TypeError(`${what} indices must be integers; received ${String(index)}`);
  const at = index < 0 ? index + length : index;
  if (at < 0 || at >= length) throw new IndexError(`${what} index out of range`);
  return at;
}

/** Python's slice bounds: negative counts from the end, out of range is clipped. */
function bound(value: number | undefined | null, length: number, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (!Number.isInteger(value)) throw new TypeError(`slice indices must be integers; received ${String(value)}`);
  return value < 0 ? Math.max(0, value + length) : Math.min(value, length);
}

function pythonOrder(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const order = pythonOrder(a[i], b[i]);
      if (order !== 0) return order;
    }
    return a.length - b.length;
  }
  throw new TypeError(`'<' not supported between ${typeof a} and ${typeof b}`);
}

/** @inline What `ListProxy.sort()` takes, as Python's `list.sort()`. */
export interface SortOptions {
  /** A function (it runs in the server: pass one that crosses by reference). */
  key?: ((item: unknown) => unknown) | null;
  /** true: largest first. */
  reverse?: boolean;
}

export class ListReferent {
  #items: unknown[];

  constructor(init?: Iterable<unknown> | null) {
    if (init !== undefined && init !== null && typeof (init as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw new TypeError('The "init" argument must be an iterable');
    }
    this.#items = init === undefined || init === null ? [] : [...init];
  }

  [VALUE_OF](): unknown[] {
    return this.#items;
  }

  length(): number {
    return this.#items.length;
  }

  get(index: number): unknown {
    return this.#items[checkIndex(index, this.#items.length, 'list')];
  }

  set(index: number, value: unknown): void {
    this.#items[checkIndex(index, this.#items.length, 'list assignment')] = value;
  }

  delete(index: number): void {
    this.#items.splice(checkIndex(index, this.#items.length, 'list assignment'), 1);
  }

  slice(start?: number | null, stop?: number | null): unknown[] {
    const n = this.#items.length;
    return this.#items.slice(bound(start, n, 0), bound(stop, n, n));
  }

  toArray(): unknown[] {
    return this.#items.slice();
  }

  contains(value: unknown): boolean {
    return this.#items.some((item) => same(item, value));
  }

  append(value: unknown): void {
    this.#items.push(value);
  }

  extend(values: Iterable<unknown>): void {
    if (values === null || typeof (values as Iterable<unknown>)?.[Symbol.iterator] !== 'function') {
      throw new TypeError('The "values" argument must be an iterable');
    }
    for (const value of values) this.#items.push(value);
  }

  insert(index: number, value: unknown): void {
    if (!Number.isInteger(index)) throw new TypeError(`The "index" argument must be an integer; received ${String(index)}`);
    this.#items.splice(bound(index, this.#items.length, 0), 0, value);
  }

  pop(index = -1): unknown {
    if (this.#items.length === 0) throw new IndexError('pop from empty list');
    return this.#items.splice(checkIndex(index, this.#items.length, 'pop'), 1)[0];
  }

  remove(value: unknown): void {
    const at = this.#items.findIndex((item) => same(item, value));
    if (at < 0) throw new ValueError('list.remove(x): x not in list');
    this.#items.splice(at, 1);
  }

  index(value: unknown, start?: number | null, stop?: number | null): number {
    const n = this.#items.length;
    for (let i = bound(start, n, 0); i < bound(stop, n, n); i++) if (same(this.#items[i], value)) return i;
    throw new ValueError('list.index(x): x not in list');
  }

  count(value: unknown): number {
    return this.#items.reduce<number>((n, item) => n + (same(item, value) ? 1 : 0), 0);
  }

  reverse(): void {
    this.#items.reverse();
  }

  async sort(options: SortOptions = {}): Promise<void> {
    if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
    const { key = null, reverse = false } = options;
    if (key !== null && typeof key !== 'function') throw new TypeError('The "options.key" property must be a function');
    const keyed = await Promise.all(this.#items.map(async (item) => [key === null ? item : await key(item), item] as const));
    keyed.sort((a, b) => pythonOrder(a[0], b[0]) * (reverse ? -1 : 1));
    this.#items = keyed.map(([, item]) => item);
  }

  clear(): void {
    this.#items = [];
  }

  copy(): unknown[] {
    return this.#items.slice();
  }

  /** Python's `list * n` repeated in place (`__imul__`). */
  repeat(times: number): void {
    if (!Number.isInteger(times)) throw new TypeError(`The "times" argument must be an integer; received ${String(times)}`);
    const items = this.#items;
    this.#items = times <= 0 ? [] : Array.from({ length: times }, () => items).flat(1);
  }
}

type Entries = Iterable<readonly [unknown, unknown]>;

function entriesOf(other: unknown, parameter: string): Entries {
  if (other instanceof Map) return other;
  if (other !== null && typeof other === 'object') {
    if (typeof (other as Entries)[Symbol.iterator] === 'function') return other as Entries;
    return Object.entries(other);
  }
  throw new TypeError(`The "${parameter}" argument must be an object, a Map or an iterable of [key, value] pairs`);
}

const MISSING = Symbol('missing');

export class DictReferent {
  readonly #map: Map<unknown, unknown>;

  constructor(init?: unknown) {
    this.#map = new Map(init === undefined || init === null ? [] : entriesOf(init, 'init'));
  }

  [VALUE_OF](): Map<unknown, unknown> {
    return this.#map;
  }

  length(): number {
    return this.#map.size;
  }

  /** dict.get: the default (null) when the key is missing. */
  get(key: unknown, defaultValue: unknown = null): unknown {
    return this.#map.has(key) ? this.#map.get(key) : defaultValue;
  }

  /** dict[key]: KeyError when the key is missing. */
  getItem(key: unknown): unknown {
    if (!this.#map.has(key)) throw new KeyError(String(key));
    return this.#map.get(key);
  }

  set(key: unknown, value: unknown): void {
    this.#map.set(key, value);
  }

  /** del dict[key], as Map's delete: whether the key was there. */
  delete(key: unknown): boolean {
    return this.#map.delete(key);
  }

  has(key: unknown): boolean {
    return this.#map.has(key);
  }

  keys(): unknown[] {
    return [...this.#map.keys()];
  }

  values(): unknown[] {
    return [...this.#map.values()];
  }

  items(): Array<[unknown, unknown]> {
    return [...this.#map.entries()];
  }

  toObject(): Record<string, unknown> {
    return Object.fromEntries(this.#map);
  }

  toMap(): Map<unknown, unknown> {
    return new Map(this.#map);
  }

  update(other: unknown): void {
    for (const [key, value] of entriesOf(other, 'other')) this.#map.set(key, value);
  }

  pop(key: unknown, defaultValue: unknown = MISSING): unknown {
    if (this.#map.has(key)) {
      const value = this.#map.get(key);
      this.#map.delete(key);
      return value;
    }
    if (defaultValue === MISSING) throw new KeyError(String(key));
    return defaultValue;
  }

  popitem(): [unknown, unknown] {
    const last = [...this.#map.keys()].pop();
    if (this.#map.size === 0) throw new KeyError('popitem(): dictionary is empty');
    const value = this.#map.get(last);
    this.#map.delete(last);
    return [last, value];
  }

  setdefault(key: unknown, defaultValue: unknown = null): unknown {
    if (!this.#map.has(key)) this.#map.set(key, defaultValue);
    return this.#map.get(key);
  }

  clear(): void {
    this.#map.clear();
  }

  copy(): Map<unknown, unknown> {
    return new Map(this.#map);
  }
}

export class NamespaceReferent {
  readonly #attributes = new Map<string, unknown>();

  constructor(init?: Record<string, unknown> | null) {
    if (init !== undefined && init !== null) {
      if (typeof init !== 'object') throw new TypeError('The "init" argument must be an object');
      for (const [name, value] of Object.entries(init)) this.#attributes.set(name, value);
    }
  }

  [VALUE_OF](): Record<string, unknown> {
    return this.toObject();
  }

  get(name: string): unknown {
    if (!this.#attributes.has(name)) throw new AttributeError(`'Namespace' object has no attribute '${String(name)}'`);
    return this.#attributes.get(name);
  }

  set(name: string, value: unknown): void {
    if (typeof name !== 'string') throw new TypeError('The "name" argument must be a string');
    this.#attributes.set(name, value);
  }

  delete(name: string): void {
    if (!this.#attributes.delete(name)) throw new AttributeError(`'Namespace' object has no attribute '${String(name)}'`);
  }

  has(name: string): boolean {
    return this.#attributes.has(name);
  }

  toObject(): Record<string, unknown> {
    return Object.fromEntries(this.#attributes);
  }
}

export class ValueReferent {
  readonly typecode: string;
  #value: unknown;

  constructor(typecode: string, value: unknown) {
    if (typeof typecode !== 'string' || typecode === '') throw new TypeError('The "typecode" argument must be a non-empty string');
    this.typecode = typecode;
    this.#value = value;
  }

  [VALUE_OF](): unknown {
    return this.#value;
  }

  get(): unknown {
    return this.#value;
  }

  set(value: unknown): void {
    this.#value = value;
  }
}

type ArrayTypecode = TypeCode;
type AnyTypedArray = SharedTypedArray;

/** Python's array.array: items of one C type, checked on the way in. */
export class ArrayReferent {
  readonly typecode: ArrayTypecode;
  #items: AnyTypedArray;

  constructor(typecode: string, sequence: Iterable<number | bigint> | number = []) {
    if (typeof typecode !== 'string' || !Object.hasOwn(typedArrayOf, typecode)) {
      throw new RangeError(`The "typecode" argument must be one of ${Object.keys(typedArrayOf).join(', ')}; received ${String(typecode)}`);
    }
    this.typecode = typecode as ArrayTypecode;
    const Type = typedArrayOf[this.typecode];
    const items = typeof sequence === 'number' ? new Array<number>(sequence).fill(0) : [...sequence];
    this.#items = new Type(new ArrayBuffer(items.length * Type.BYTES_PER_ELEMENT), 0, items.length);
    items.forEach((value, i) => this.#store(i, value, `sequence[${i}]`));
  }

  #store(index: number, value: unknown, parameter: string): void {
    const wide = this.#items instanceof BigInt64Array || this.#items instanceof BigUint64Array;
    if (wide) {
      if (typeof value !== 'bigint' && !(typeof value === 'number' && Number.isInteger(value))) {
        throw new TypeError(`The "${parameter}" value must be an integer`);
      }
      const previous = this.#items[index] as bigint;
      (this.#items as BigInt64Array)[index] = BigInt(value);
      if (this.#items[index] !== BigInt(value)) {
        (this.#items as BigInt64Array)[index] = previous;
        throw new RangeError(`The "${parameter}" value ${value} does not fit typecode '${this.typecode}'`);
      }
      return;
    }
    if (typeof value !== 'number') throw new TypeError(`The "${parameter}" value must be a number`);
    const integral = this.typecode !== 'f' && this.typecode !== 'd';
    if (integral && !Number.isInteger(value)) throw new TypeError(`The "${parameter}" value must be an integer`);
    const previous = this.#items[index] as number;
    (this.#items as Float64Array)[index] = value;
    if (integral && this.#items[index] !== value) {
      (this.#items as Float64Array)[index] = previous;
      throw new RangeError(`The "${parameter}" value ${value} does not fit typecode '${this.typecode}'`);
    }
  }

  [VALUE_OF](): AnyTypedArray {
    return this.#items;
  }

  length(): number {
    return this.#items.length;
  }

  get(index: number): number | bigint {
    return this.#items[checkIndex(index, this.#items.length, 'array')];
  }

  set(index: number, value: number | bigint): void {
    this.#store(checkIndex(index, this.#items.length, 'array assignment'), value, 'value');
  }

  toArray(): Array<number | bigint> {
    return [...this.#items];
  }
}
