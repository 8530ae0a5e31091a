// How a parent hands a starting child (spawn child, forkserver) its data
// over a pipe: one frame, a 32-bit length and a 32-bit count of the
// descriptors that came with it, then the bytes.
import { native } from '../native';

const HEADER_LENGTH = 8;

/** Writes the frame; throws (EPIPE) if the reader has gone. Blocks until a full pipe drains. */
export function writeFrame(fd: number, data: Uint8Array, fdCount = 0): void {
  const header = Buffer.allocUnsafe(HEADER_LENGTH);
  header.writeUInt32LE(data.length, 0);
  header.writeUInt32LE(fdCount, 4);
  native.writeAll(fd, Buffer.concat([header, data]));
}

/** Reads one frame; null when the writer closed the pipe before sending a whole one. */
export function readFrame(fd: number): { data: Buffer; fdCount: number } | null {
  const header = native.readExact(fd, HEADER_LENGTH);
  if (header.length < HEADER_LENGTH) return null;
  const length = header.readUInt32LE(0);
  const data = native.readExact(fd, length);
  if (data.length < length) return null;
  return { data, fdCount: header.readUInt32LE(4) };
}
