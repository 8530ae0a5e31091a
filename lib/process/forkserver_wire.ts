// The forkserver's wire, in one place: the descriptors the server starts
// with, the request a client sends (and the server reads a piece at a
// time, entry/forkserver_main.ts), the replies, and the frame that hands a
// request to a warm child (entry/warm_children.ts). Integers are
// little-endian.
//
//   client → server   [u32 authkey length][authkey][u32 data length][data],
//                     the descriptors (SCM_RIGHTS) with the first byte
//   server → client   [i32 pid]; later, on the same socket, [i32 exit code]
//   server → warm     [u32 data length][u32 flags][data], descriptors with it
//   warm → server     (learning children only) [u32 bytes][f64 ranges]
import { nodeCrypto } from '../util';

/** The server's descriptors as it starts: its configuration pipe, the listening socket, the pipe whose EOF says the parent is gone. */
export const CONFIG_FD = 3;
export const LISTENER_FD = 4;
export const ALIVE_FD = 5;
/** Descriptors one request (or one warm child's assignment) may carry at most. */
export const MAX_REQUEST_FDS = 64;
/** Longer authkeys are refused unread (Python's are 32 bytes; any length up to this works). */
export const MAX_AUTHKEY_LENGTH = 4096;
/** The reply's pid and the exit status are each one i32. */
export const REPLY_BYTES = 4;
/** The exit code a client reports when the server closed the socket without a status (Python's forkserver: 255). */
export const UNKNOWN_EXIT_CODE = 255;
/** A warm child's assignment header: [u32 data length][u32 flags]. */
export const WARM_HEADER_BYTES = 8;
/** Assignment flag: report the pages written, for learned prefaulting. */
export const WARM_FLAG_LEARN = 1;
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
