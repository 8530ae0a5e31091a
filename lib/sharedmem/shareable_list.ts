// ShareableList in Python's exact binary layout, so that Python's
// multiprocessing.shared_memory.ShareableList(name=…) reads and writes a
// list made here, and the other way round. The segment holds, in native
// byte order and 8-byte units:
//   q            item count n
//   q * (n + 1)  each item's offset into the data area, then its end
//   data         items: 'q' int64, 'd' double, 'xxxxxxx?' bool,
//                'xxxxxx?x' None, '<k>s' str/bytes (k a multiple of 8)
//   8s * n       each item's struct format, NUL-padded
//   b * n        each item's back-transform code (0 value, 1 str, 2 bytes, 3 None)
import { endianness } from 'node:os';

import { register as registerReducer } from '../serialize/reduction';
import { SharedMemory } from './shared_memory';

/**
 * What a {@link ShareableList} item may be: an integer number or a bigint
 * (stored as a signed 64-bit integer), another number (a double), a
 * boolean, a string (UTF-8), a Buffer, or null.
 *
 * @category Shared memory
 * @example
 * ```ts
 * const items: mp.ShareableValue[] = [42, 2n ** 40n, 3.5, true, 'text', Buffer.from([1, 2]), null];
 * const list = new mp.ShareableList(items);
 * ```
 */
export type ShareableValue = number | bigint | boolean | string | Buffer | null;

const ALIGNMENT = 8;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const littleEndian = endianness() === 'LE';

const enum Code {
  Value = 0,
  Str = 1,
  Bytes = 2,
  None = 3,
}

interface Encoded {
  format: string;
  code: Code;
  /** The str/bytes payload. */
  bytes?: Buffer;
  value?: number | bigint | boolean;
}

function encode(value: unknown, where: string): Encoded {
  switch (typeof value) {
    case 'number':
      return Number.isSafeInteger(value) ? { format: 'q', code: Code.Value, value: BigInt(value) } : { format: 'd', code: Code.Value, value };
    case 'bigint':
      if (value < INT64_MIN || value > INT64_MAX) throw new RangeError(`${where} must fit a signed 64-bit integer; received ${value}`);
      return { format: 'q', code: Code.Value, value };
    case 'boolean':
      return { format: 'xxxxxxx?', code: Code.Value, value };
    case 'string':
      return { format: 's', code: Code.Str, bytes: Buffer.from(value, 'utf8') };
    case 'object':
      if (value === null) return { format: 'xxxxxx?x', code: Code.None };
      if (value instanceof Uint8Array) return { format: 's', code: Code.Bytes, bytes: Buffer.from(value) };
  }
  throw new TypeError(`${where} must be a number, bigint, boolean, string, Buffer or null; received ${describe(value)}`);
}

function describe(value: unknown): string {
  if (value === null || typeof value !== 'object') return typeof value;
  return `an instance of ${(value as object).constructor?.name ?? 'an unknown class'}`;
}

/** Python sizes a str/bytes slot as 8 * (len // 8 + 1): always room for a NUL. */
function slotFor(byteLength: number): number {
  return ALIGNMENT * (Math.floor(byteLength / ALIGNMENT) + 1);
}

function sameItem(a: ShareableValue, b: unknown): boolean {
  if (Buffer.isBuffer(a)) return b instanceof Uint8Array && Buffer.compare(a, b) === 0;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    // eslint-disable-next-line eqeqeq
    return a == b; // 1 and 1n are the same int, as in Python
  }
  return a === b;
}

/**
 * What `new ShareableList(sequence, options)` takes.
 *
 * @category Shared memory
 * @example
 * ```ts
 * const options: mp.ShareableListOptions = { name: 'myapp_settings' };
 * const list = new mp.ShareableList([1, 'two', 3.5], options); // created under that name
 * const same = new mp.ShareableList(null, options); // attached to it, in any process
 * ```
 */
export interface ShareableListOptions {
  /** Create under this name (with a sequence), or attach to it (without). */
  name?: string;
  /** As SharedMemory's: false when attaching to a list another program owns. */
  track?: boolean;
}

/**
 * A fixed-length list in shared memory (Python's
 * `multiprocessing.shared_memory.ShareableList`, in its binary layout: a
 * Python process can attach to a list made here, and the other way round).
 * Items are {@link ShareableValue}s. A string or Buffer item keeps the room
 * it was made with (its length rounded up to the next multiple of 8, at
 * least one byte more); a longer replacement throws RangeError. Create one
 * from a sequence, attach to one by name; the list crosses to children as
 * the same segment.
 *
 * @category Shared memory
 * @example
 * ```ts
 * const list = new mp.ShareableList([1, 'two', 3.5, null]);
 * const other = new mp.ShareableList(null, { name: list.shm.name }); // in any process
 * other.set(0, 42);
 * console.log(list.get(0), list.length); // 42 4
 * list.shm.close();
 * list.shm.unlink();
 * ```
 */
export class ShareableList {
  readonly #shm: SharedMemory;
  readonly #length: number;
  /** Item offsets into the data area, and the end of the last item. */
  readonly #offsets: number[];

  /**
   * With a `sequence` (or neither a sequence nor a name): a new list holding
   * it, in a new segment (named `options.name`, or made up). Without a
   * sequence but with `options.name`: the list already in that segment.
   *
   * @throws TypeError for an item that is not a {@link ShareableValue};
   * RangeError for a bigint beyond 64 bits, or a segment that does not hold a
   * ShareableList; the errors of {@link SharedMemory} (EEXIST, ENOENT).
   */
  constructor(sequence?: Iterable<ShareableValue> | null, options: ShareableListOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
    const name = options.name ?? undefined;
    const track = options.track;
    if (sequence === undefined || sequence === null) {
      if (name === undefined) {
        sequence = [];
      } else {
        this.#shm = new SharedMemory({ name, track });
        const view = this.#shm.buf;
        this.#length = Number(this.#readInt64(view, 0));
        if (!(this.#length >= 0) || (this.#length + 2) * 8 > view.length) {
          this.#shm.close();
          throw new RangeError(`The shared memory segment '${name}' does not hold a ShareableList`);
        }
        this.#offsets = [];
        for (let i = 0; i <= this.#length; i++) this.#offsets.push(Number(this.#readInt64(view, 8 + i * 8)));
        // Another process wrote the layout: every item must lie inside the segment before any is read.
        const n = this.#length;
        const ordered = this.#offsets.every((offset, i) => Number.isSafeInteger(offset) && offset >= (i === 0 ? 0 : this.#offsets[i - 1]));
        if (!ordered || this.#offsets[0] !== 0 || 8 + 8 * (n + 1) + this.#offsets[n] + 8 * n + n > view.length) {
          this.#shm.close();
          throw new RangeError(`The shared memory segment '${name}' does not hold a ShareableList (its layout reaches beyond it)`);
        }
        return;
      }
    }
    if (typeof (sequence as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw new TypeError('The "sequence" argument must be an iterable, null or undefined');
    }
    const items = Array.from(sequence, (value, i) => encode(value, `sequence[${i}]`));
    const offsets = [0];
    for (const item of items) {
      if (item.bytes !== undefined) item.format = `${slotFor(item.bytes.length)}s`;
      offsets.push(offsets[offsets.length - 1] + (item.bytes !== undefined ? slotFor(item.bytes.length) : ALIGNMENT));
    }
    const n = items.length;
    const size = 8 + 8 * (n + 1) + offsets[n] + 8 * n + n;
    this.#shm = new SharedMemory({ name, create: true, size, track });
    this.#length = n;
    this.#offsets = offsets;
    const view = this.#shm.buf;
    this.#writeInt64(view, 0, BigInt(n));
    offsets.forEach((offset, i) => this.#writeInt64(view, 8 + i * 8, BigInt(offset)));
    items.forEach((item, i) => this.#store(view, i, item));
  }

  /** The segment that holds the list: close() and unlink() it when done. */
  get shm(): SharedMemory {
    return this.#shm;
  }

  /** How many items the list has (fixed). */
  get length(): number {
    return this.#length;
  }

  /** Every item's struct format, joined (Python's ShareableList.format). */
  get format(): string {
    let format = '';
    for (let i = 0; i < this.#length; i++) format += this.#formatAt(this.#shm.buf, i);
    return format;
  }

  /**
   * The item at `index` (negative counts from the end). A 64-bit integer item
   * reads back as a number when it is a safe integer, else as a bigint.
   *
   * @throws RangeError for an index out of range.
   */
  get(index: number): ShareableValue {
    const i = this.#position(index);
    const view = this.#shm.buf;
    const format = this.#formatAt(view, i);
    const at = this.#dataStart + this.#offsets[i];
    const code = view.readInt8(this.#codesStart + i);
    if (code === Code.None) return null;
    if (format === 'q') {
      const value = this.#readInt64(view, at);
      return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
    }
    if (format === 'd') return littleEndian ? view.readDoubleLE(at) : view.readDoubleBE(at);
    if (format === 'xxxxxxx?') return view[at + 7] !== 0;
    const slot = /^(\d+)s$/.exec(format);
    if (slot === null) throw new Error(`ShareableList item ${i} has a format this package cannot read: '${format}'`);
    let end = at + Number(slot[1]);
    while (end > at && view[end - 1] === 0) end--; // Python's rstrip(b'\x00')
    return code === Code.Str ? view.toString('utf8', at, end) : Buffer.from(view.subarray(at, end));
  }

  /**
   * Replaces the item at `index` (negative counts from the end).
   *
   * @throws RangeError for an index out of range, or a string or Buffer longer
   * than the item's room; TypeError for a value that is not a
   * {@link ShareableValue}.
   */
  set(index: number, value: ShareableValue): void {
    const i = this.#position(index);
    const item = encode(value, 'The "value" argument');
    const view = this.#shm.buf;
    if (item.bytes !== undefined) {
      const room = this.#offsets[i + 1] - this.#offsets[i];
      if (item.bytes.length > room) {
        throw new RangeError(`The "value" argument is ${item.bytes.length} bytes; item ${i} has room for ${room} (a str/bytes item exceeds its storage)`);
      }
      const current = this.#formatAt(view, i);
      item.format = current.endsWith('s') ? current : `${room}s`;
    }
    this.#store(view, i, item);
  }

  /** How many items equal `value` (`1` and `1n` are the same, as in Python). */
  count(value: ShareableValue): number {
    let n = 0;
    for (const item of this) if (sameItem(item, value)) n++;
    return n;
  }

  /** The first index holding `value`. @throws RangeError (Python's ValueError) when none does. */
  index(value: ShareableValue): number {
    let i = 0;
    for (const item of this) {
      if (sameItem(item, value)) return i;
      i++;
    }
    throw new RangeError('ShareableList.index(x): x not in list');
  }

  /** A copy of the items, in order. */
  toArray(): ShareableValue[] {
    return Array.from(this);
  }

  /** The items in order (`[...list]`, `for … of`). */
  *[Symbol.iterator](): IterableIterator<ShareableValue> {
    for (let i = 0; i < this.#length; i++) yield this.get(i);
  }

  /** As text: `ShareableList([1,"two"], name='psm_…')`. */
  toString(): string {
    return `ShareableList(${JSON.stringify(this.toArray(), (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}, name='${this.#shm.name}')`;
  }

  get #dataStart(): number {
    return (this.#length + 2) * 8;
  }

  get #formatsStart(): number {
    return this.#dataStart + this.#offsets[this.#length];
  }

  get #codesStart(): number {
    return this.#formatsStart + this.#length * 8;
  }

  #position(index: unknown): number {
    if (typeof index !== 'number' || !Number.isInteger(index)) throw new TypeError(`The "index" argument must be an integer; received ${String(index)}`);
    const i = index < 0 ? index + this.#length : index;
    if (i < 0 || i >= this.#length) throw new RangeError(`The "index" argument is out of range: ${index} (length ${this.#length})`);
    return i;
  }

  #formatAt(view: Buffer, i: number): string {
    const at = this.#formatsStart + i * 8;
    let end = at + 8;
    while (end > at && view[end - 1] === 0) end--;
    return view.toString('utf8', at, end);
  }

  #store(view: Buffer, i: number, item: Encoded): void {
    const at = this.#dataStart + this.#offsets[i];
    const formatAt = this.#formatsStart + i * 8;
    view.fill(0, formatAt, formatAt + 8);
    view.write(item.format, formatAt, 8, 'utf8');
    view.writeInt8(item.code, this.#codesStart + i);
    if (item.bytes !== undefined) {
      const room = this.#offsets[i + 1] - this.#offsets[i];
      item.bytes.copy(view, at);
      view.fill(0, at + item.bytes.length, at + room);
    } else if (item.format === 'q') {
      this.#writeInt64(view, at, item.value as bigint);
    } else if (item.format === 'd') {
      if (littleEndian) view.writeDoubleLE(item.value as number, at);
      else view.writeDoubleBE(item.value as number, at);
    } else {
      view.fill(0, at, at + 8); // pad bytes, and None's '?' packs False
      if (item.format === 'xxxxxxx?') view[at + 7] = item.value === true ? 1 : 0;
    }
  }

  #readInt64(view: Buffer, at: number): bigint {
    return littleEndian ? view.readBigInt64LE(at) : view.readBigInt64BE(at);
  }

  #writeInt64(view: Buffer, at: number, value: bigint): void {
    if (littleEndian) view.writeBigInt64LE(value, at);
    else view.writeBigInt64BE(value, at);
  }
}

// As Python's: the receiver attaches by name.
registerReducer<ShareableList, { name: string }>('multiprocessing.ShareableList', ShareableList, {
  reduce: (list) => ({ name: list.shm.name }),
  revive: (state) => new ShareableList(null, { name: state.name }),
});
