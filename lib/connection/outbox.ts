// Bytes on their way out of one socket: the one outbox of the package
// (connections write through it at once, a queue's feeder a turn later and
// under the queue's write lock). Each piece owns the descriptor duplicates
// it carries; small frames that wait are coalesced into one write (a
// stream socket charges each write's overhead against its capacity, so a
// write per small item would fill it after a few hundred); what is still
// waiting at exit is written synchronously, and a fork child forgets what
// its parent had not yet written.
import { atExit } from '../process/exit';
import { Fifo } from '../fifo';
import { native } from '../native';
import { registerAtFork } from '../process/at_fork';
import { frameHeader } from './framing';

/** Payloads up to this size are copied behind their header and sent in one call. */
export const COALESCE_LIMIT = 64 << 10;
/** How many bytes of waiting small frames one write may carry. */
const BATCH_LIMIT = 256 << 10;

interface Piece {
  /** Until the first byte is sent: the parts, joined into `bytes` then. */
  parts: Uint8Array[] | null;
  bytes: Uint8Array | null;
  length: number;
  offset: number;
  fds: number[] | null;
  /** The fds are duplicates made for this piece: closed once sent. */
  ownsFds: boolean;
  /** The bytes are the caller's, not a copy: copied if they must wait. */
  borrowed: boolean;
}

function closeFds(fds: readonly number[]): void {
  for (const fd of fds) {
    try {
      native.closeFd(fd);
    } catch {
      // already closed
    }
  }
}

export interface FrameOptions {
  /** The big parts are the caller's memory, copied if they must wait (what send() was given must not change in flight). */
  borrowed: boolean;
  /** Duplicate the descriptors now (the frame will wait): the caller may close its own right after. */
  duplicateFds: boolean;
}

export class Outbox {
  readonly #pieces = new Fifo<Piece>();
  /** The pieces of the last add(): the only ones that may still hold the caller's memory or descriptors. */
  #recent: Piece[] = [];
  /** Bytes not yet sent. */
  bytes = 0;

  constructor(readonly fd: number) {}

  get empty(): boolean {
    return this.#pieces.length === 0;
  }

  /**
   * Queues one frame: its header and small parts joined, each big part a
   * piece of its own; a small frame without descriptors joins the unsent
   * small frame before it.
   */
  add(parts: readonly Uint8Array[], length: number, fds: readonly number[], options: FrameOptions): void {
    const head = frameHeader(length);
    if (fds.length === 0 && length <= COALESCE_LIMIT) {
      this.#addSmall(head, parts, length, options.borrowed);
      return;
    }
    let owned: number[] | null = null;
    if (fds.length > 0) owned = options.duplicateFds ? fds.map((fd) => native.dup(fd)) : [...fds];
    this.bytes += head.byteLength + length;
    const recent: Piece[] = [];
    this.#recent = recent;
    let small: Uint8Array[] = [head];
    let smallBytes = head.byteLength;
    let first = true;
    const flushSmall = (): void => {
      if (small.length === 0) return;
      // Small parts of the caller's are copied now (one copy, the one a single write needs anyway).
      if (options.borrowed && small.length > 1) small = [Buffer.concat(small, smallBytes)];
      const pieceFds = first ? owned : null;
      const tail = this.#pieces.last();
      if (first && pieceFds === null && tail !== undefined && canJoin(tail, smallBytes)) {
        (tail.parts as Uint8Array[]).push(...small);
        tail.length += smallBytes;
      } else {
        const piece: Piece = { parts: small, bytes: null, length: smallBytes, offset: 0, fds: pieceFds, ownsFds: options.duplicateFds, borrowed: false };
        this.#pieces.push(piece);
        recent.push(piece);
      }
      first = false;
      small = [];
      smallBytes = 0;
    };
    for (const part of parts) {
      if (part.byteLength <= COALESCE_LIMIT) {
        small.push(part);
        smallBytes += part.byteLength;
      } else {
        flushSmall();
        const piece: Piece = { parts: null, bytes: part, length: part.byteLength, offset: 0, fds: null, ownsFds: false, borrowed: options.borrowed };
        this.#pieces.push(piece);
        recent.push(piece);
      }
    }
    flushSmall();
  }

  /** The common frame: small, no descriptors; one piece, or joined to the unsent one before it. */
  #addSmall(head: Buffer, parts: readonly Uint8Array[], length: number, borrowed: boolean): void {
    const bytes = head.byteLength + length;
    this.bytes += bytes;
    const tail = this.#pieces.last();
    if (tail !== undefined && canJoin(tail, bytes)) {
      const joinedParts = tail.parts as Uint8Array[];
      if (borrowed && parts.length > 0) {
        joinedParts.push(Buffer.concat([head, ...parts], bytes));
      } else {
        joinedParts.push(head);
        for (const part of parts) joinedParts.push(part);
      }
      tail.length += bytes;
      this.#recent = [];
      return;
    }
    const own = borrowed && parts.length > 0 ? [Buffer.concat([head, ...parts], bytes)] : [head, ...parts];
    const piece: Piece = { parts: own, bytes: null, length: bytes, offset: 0, fds: null, ownsFds: false, borrowed: false };
    this.#pieces.push(piece);
    this.#recent = [piece];
  }

  /** Sends what the socket takes now; true when the outbox is empty. */
  pushOut(): boolean {
    while (this.#pieces.length > 0) {
      const piece = this.#pieces.first();
      const bytes = joined(piece);
      const sent = native.sendSome(this.fd, bytes, piece.offset, bytes.byteLength - piece.offset, piece.fds);
      if (sent < 0) return false;
      if (piece.fds !== null) {
        if (piece.ownsFds) closeFds(piece.fds);
        piece.fds = null;
      }
      piece.offset += sent;
      this.bytes -= sent;
      if (piece.offset === bytes.byteLength) this.#pieces.shift();
    }
    return true;
  }

  /** Blocks the thread until at most `limit` bytes are left. */
  pushOutSync(limit: number): void {
    while (!this.pushOut() && this.bytes > limit) native.pollFd(this.fd, true, null);
  }

  /**
   * What waits may depend on nothing of the caller's: descriptors are
   * duplicated and borrowed bytes copied (like Python's send_bytes, which
   * returns once written: later changes to the caller's buffer must not
   * reach the peer).
   */
  detachFromCaller(): void {
    for (const piece of this.#recent) {
      if (piece.fds !== null && !piece.ownsFds) {
        piece.fds = piece.fds.map((fd) => native.dup(fd));
        piece.ownsFds = true;
      }
      if (piece.borrowed && piece.bytes !== null && piece.offset < piece.bytes.byteLength) {
        piece.bytes = Buffer.from(piece.bytes.subarray(piece.offset));
        piece.length = piece.bytes.byteLength;
        piece.offset = 0;
        piece.borrowed = false;
      }
    }
    this.#recent = [];
  }

  /** Drops everything unsent, closing the descriptors it owned. */
  clear(): void {
    this.#recent = [];
    for (; this.#pieces.length > 0; this.#pieces.shift()) {
      const piece = this.#pieces.first();
      if (piece.ownsFds && piece.fds !== null) closeFds(piece.fds);
    }
    this.bytes = 0;
  }
}

/** A piece small frames may join: unsent, without descriptors, and with room. */
function canJoin(tail: Piece, bytes: number): boolean {
  return tail.parts !== null && tail.fds === null && tail.length + bytes <= BATCH_LIMIT;
}

function joined(piece: Piece): Uint8Array {
  if (piece.bytes === null) {
    const parts = piece.parts as Uint8Array[];
    piece.bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts, piece.length);
    piece.parts = null;
  }
  return piece.bytes;
}

// ---------------------------------------------------------------------------
// Writes still pending, flushed at exit and forgotten in a fork child.

/** Something holding unsent frames: a connection's outbox, a queue's feeder. */
export interface PendingWrites {
  /** Writes everything now, blocking the thread (at exit). */
  flushSync(): void;
  /** In a fork child: what the parent had not written is the parent's. */
  forget(): void;
}

const pending = new Set<PendingWrites>();

/** Keeps `writes` for the exit flush until untrack(): registered while non-empty, so the owner may be collected after. */
export function trackPending(writes: PendingWrites): void {
  pending.add(writes);
}

export function untrackPending(writes: PendingWrites): void {
  pending.delete(writes);
}

atExit('flush', () => {
  for (const writes of pending) {
    try {
      writes.flushSync();
    } catch {
      // the peer is gone: nothing can be delivered
    }
  }
  pending.clear();
});

registerAtFork({
  afterInChild: () => {
    for (const writes of pending) writes.forget();
    pending.clear();
  },
});
