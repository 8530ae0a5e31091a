// Big typed arrays and Buffers travel beside the serialized body, not inside
// it (pickle protocol 5's out-of-band buffers): node:v8 would copy each into
// its output, and a 256 MiB Buffer would be copied once more than the
// kernel needs. The sender writes [prefix][body][segments]; the receiver's
// values are views into the one buffer the message was read into.
//
//   prefix: tag (1) | segment count (u32) | body length (u32) | segment lengths (f64 each)
//   then the body, then each segment, each starting at a multiple of 8.
import * as v8 from 'node:v8';

/** Views at least this big go out of band. */
const OUT_OF_BAND_MIN = 64 << 10;
/** A host-object type Node never writes: "segment <n> follows". */
const SEGMENT_MARK = 0xff00;
const FAST_BUFFER = 10;

// Node's own indexes (lib/v8.js arrayBufferViewTypeToIndex), 10 being Buffer.
const viewTypes: ReadonlyArray<Function | null> = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  DataView,
  null,
  BigInt64Array,
  BigUint64Array,
];

type View = NodeJS.TypedArray | DataView;
type ViewConstructor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => View;

function typeIndex(view: View): number {
  if (Buffer.isBuffer(view)) return FAST_BUFFER;
  return viewTypes.indexOf(Object.getPrototypeOf(view).constructor);
}

function makeView(index: number, buffer: ArrayBufferLike, byteOffset: number, byteLength: number): View {
  if (index === FAST_BUFFER) return Buffer.from(buffer, byteOffset, byteLength);
  const ctor = viewTypes[index] as unknown as ViewConstructor & { BYTES_PER_ELEMENT?: number };
  if (ctor === undefined || ctor === null) throw new TypeError(`unknown array type ${index} in a message`);
  const size = ctor.BYTES_PER_ELEMENT ?? 1;
  if (byteLength % size !== 0) throw new TypeError(`a message has ${byteLength} bytes for an array of ${size}-byte elements`);
  if (byteOffset % size === 0) return new ctor(buffer, byteOffset, byteLength / size);
  const aligned = Buffer.allocUnsafe(byteLength);
  aligned.set(new Uint8Array(buffer, byteOffset, byteLength));
  return new ctor(aligned.buffer, aligned.byteOffset, byteLength / size);
}

/** A serializer that leaves big views out of its output, collecting them as segments. */
export class OutOfBandSerializer extends v8.DefaultSerializer {
  readonly segments: Uint8Array[] = [];

  // Node's DefaultSerializer hook (lib/v8.js); not in @types/node.
  _writeHostObject(view: View): void {
    const index = view.byteLength >= OUT_OF_BAND_MIN ? typeIndex(view) : -1;
    if (index < 0) {
      (v8.DefaultSerializer.prototype as unknown as { _writeHostObject(v: View): void })._writeHostObject.call(this, view);
      return;
    }
    this.writeUint32(SEGMENT_MARK);
    this.writeUint32(index);
    this.writeUint32(this.segments.length);
    this.segments.push(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  }
}

const pad8 = (n: number): number => (8 - (n % 8)) % 8;
const zeros = Buffer.alloc(8);

/** The message's parts: the prefix, the body and the segments, with padding. */
export function outOfBandParts(tag: number, body: Buffer, segments: readonly Uint8Array[]): Uint8Array[] {
  const prefix = Buffer.allocUnsafe(9 + 8 * segments.length);
  prefix[0] = tag;
  prefix.writeUInt32BE(segments.length, 1);
  prefix.writeUInt32BE(body.byteLength, 5);
  segments.forEach((segment, i) => prefix.writeDoubleBE(segment.byteLength, 9 + 8 * i));
  const parts: Uint8Array[] = [prefix];
  let length = prefix.byteLength;
  const add = (part: Uint8Array): void => {
    const padding = pad8(length);
    if (padding > 0) parts.push(zeros.subarray(0, padding));
    parts.push(part);
    length += padding + part.byteLength;
  };
  add(body);
  for (const segment of segments) add(segment);
  return parts;
}

class OutOfBandDeserializer extends v8.DefaultDeserializer {
  constructor(
    body: Buffer,
    private readonly segments: ReadonlyArray<{ buffer: ArrayBufferLike; byteOffset: number; byteLength: number }>,
  ) {
    super(body);
  }

  // Node's DefaultDeserializer hook (lib/v8.js); not in @types/node.
  _readHostObject(): View {
    const index = this.readUint32();
    if (index === SEGMENT_MARK) {
      const type = this.readUint32();
      const segment = this.segments[this.readUint32()];
      if (segment === undefined) throw new TypeError('a message refers to a missing segment');
      return makeView(type, segment.buffer, segment.byteOffset, segment.byteLength);
    }
    // The default path (lib/v8.js _readHostObject), after its first read.
    const byteLength = this.readUint32();
    const self = this as unknown as { _readRawBytes(length: number): number; buffer: Buffer };
    const offset = self._readRawBytes(byteLength);
    return makeView(index, self.buffer.buffer, self.buffer.byteOffset + offset, byteLength);
  }
}

/** Reads a message outOfBandParts() made (its tag byte included); TypeError for one that is not. */
export function readOutOfBand(data: Buffer): unknown {
  if (data.byteLength < 9) throw new TypeError('a message is shorter than its prefix');
  const count = data.readUInt32BE(1);
  const bodyLength = data.readUInt32BE(5);
  // Each segment has 8 bytes of prefix: a count the message cannot hold is a lie, found before any loop.
  if (count > (data.byteLength - 9) / 8) throw new TypeError(`a message claims ${count} segments it cannot hold`);
  let at = 9 + 8 * count;
  at += pad8(at);
  if (at + bodyLength > data.byteLength) throw new TypeError('a message is shorter than its body');
  const body = data.subarray(at, at + bodyLength);
  at += bodyLength;
  const segments = [];
  for (let i = 0; i < count; i++) {
    at += pad8(at);
    const byteLength = data.readDoubleBE(9 + 8 * i);
    if (!Number.isSafeInteger(byteLength) || byteLength < 0) throw new TypeError(`a message claims a segment of ${byteLength} bytes`);
    if (at + byteLength > data.byteLength) throw new TypeError('a message is shorter than its segments');
    segments.push({ buffer: data.buffer, byteOffset: data.byteOffset + at, byteLength });
    at += byteLength;
  }
  const deserializer = new OutOfBandDeserializer(body, segments);
  deserializer.readHeader();
  return deserializer.readValue();
}
