// A forkserver request as the server reads it, a piece at a time
// (bootstrap/forkserver_main.ts; the client writes it in popen/forkserver.ts):
// [u32 authkey length][authkey][u32 data length][data], little-endian, the
// descriptors with the first byte.
import { nodeCrypto } from './util';

/** Longer authkeys are refused unread (Python's are 32 bytes; any length up to this works). */
export const MAX_AUTHKEY_LENGTH = 4096;
/** Room for a whole usual request (authkey, header, preparation data) in one read. */
const FIRST_READ = 16 << 10;

/**
 * A request being read: [u32 authkey length][authkey][u32 data length][data],
 * little-endian, descriptors with the first byte. Requests are read a bit
 * at a time from the one poll loop, so a client that stalls holds up only
 * itself, and only until its deadline.
 */
export interface Pending {
  deadline: number;
  bytes: Buffer;
  got: number;
  fds: number[];
  /** The authkey has been checked: the data length is trusted. */
  authenticated: boolean;
}

/** The bytes of one request (the client's side). */
export function encodeRequest(authkey: Buffer, data: Buffer): Buffer {
  const bytes = Buffer.allocUnsafe(4 + authkey.length + 4 + data.length);
  bytes.writeUInt32LE(authkey.length, 0);
  authkey.copy(bytes, 4);
  bytes.writeUInt32LE(data.length, 4 + authkey.length);
  data.copy(bytes, 8 + authkey.length);
  return bytes;
}

export function newRequest(deadline: number): Pending {
  return { deadline, bytes: Buffer.alloc(FIRST_READ), got: 0, fds: [], authenticated: false };
}

/**
 * Makes room for what the request still needs as its headers arrive,
 * checking the authkey as soon as it is whole, before any room is made for
 * the data. The request once it is complete, else null.
 */
export function advance(request: Pending, expected: Buffer): { data: Buffer; fds: number[] } | null {
  const { bytes, got } = request;
  if (got < 4) return null;
  const keyLength = bytes.readUInt32LE(0);
  if (keyLength > MAX_AUTHKEY_LENGTH) throw new Error(`an authkey of ${keyLength} bytes`);
  const headers = 4 + keyLength + 4;
  if (got < headers) {
    if (bytes.length < headers) request.bytes = grow(bytes, headers);
    return null;
  }
  if (!request.authenticated) {
    const key = bytes.subarray(4, 4 + keyLength);
    if (key.length !== expected.length || !nodeCrypto().timingSafeEqual(key, expected)) throw new Error('wrong authkey');
    request.authenticated = true;
  }
  const total = headers + bytes.readUInt32LE(4 + keyLength);
  if (got > total) throw new Error('bytes after the request');
  if (got < total) {
    if (bytes.length < total) request.bytes = grow(bytes, total);
    return null;
  }
  return { data: bytes.subarray(headers, total), fds: request.fds };
}

function grow(bytes: Buffer, length: number): Buffer {
  const grown = Buffer.alloc(length);
  bytes.copy(grown);
  return grown;
}
