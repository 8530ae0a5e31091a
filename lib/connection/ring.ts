// The shared-memory carrier: a ring of small messages in nameless shared
// memory (a memfd), beside the socket of a channel (a Pipe's direction, a
// Queue). Writers copy a message in and publish it with one atomic store;
// readers take it with one compare-and-swap of the head. No system call on
// the way while the reader is awake (it spins a little before it sleeps).
// A reader that sleeps waits on the socket, where end-of-file and big
// messages arrive anyway, and counts itself among the ring's sleepers; a
// writer that publishes while someone sleeps rings the doorbell: a 4-byte
// header no frame has (framing.ts), which readers drop. One wake per sleep,
// not per message, and no thread in between (a futex wake relayed to the
// event loop by a waiter thread cost 50-65 µs a wake on the 2-CPU machine
// these figures come from, against about 15 µs for the socket).
//
// The socket stays the carrier of big messages, of descriptors, and of
// whatever overflows a full ring ("spills"). Order across the two: a writer
// uses the ring only while every spill counted so far has been read, so a
// message in the ring is never newer than one still in the socket; a
// reader looks at the ring first and reads the socket when the ring is
// empty and a spill is counted (or the socket is readable: end-of-file, or a
// writer that is not ours).
//
// Crashes: the head moves by compare-and-swap after the reader has copied
// the message out, so a reader killed anywhere has either taken the message
// or left it for the others, and holds no lock. Writers hold a lock word
// that names their pid; a lock whose holder died is taken over (the tail
// moves in one store, so a writer killed mid-message published nothing).
import { readFileSync } from 'node:fs';

import { notify as futexNotify, wait as futexWait } from '../sharedmem/atomics';
import { native } from '../native';
import { register } from '../serialize/reduction';
import { monotonicMs } from '../util';
import { registerAtFork } from '../process/at_fork';
import { ringDoorbell } from './framing';
import { closeWhenCollected, whenReady } from './readiness';

/** Bytes of messages a ring holds (its data area); the header comes before. */
const DATA_BYTES = 256 << 10;
const HEADER_BYTES = 4096;
/** One ring's bytes in its memory. */
const RING_BYTES = HEADER_BYTES + DATA_BYTES;
/** Longer messages take the socket: the ring is for many small ones. */
export const MAX_RING_MESSAGE = 64 << 10;

const MAGIC = 0x4d505231; // "MPR1"

// Int32 word indices in the header (each group on its own cache line).
const I_MAGIC = 0;
const I_CAPACITY = 1;
const I_WRITE_LOCK = 16;
const I_READ_LOCK = 32;
/** The pid of a reader mid-way through a spilled frame (a lock taken over from it cannot trust the stream). */
const I_READ_MID_FRAME = 33;
/** How many readers sleep (or are about to): writers ring the doorbell while any do. */
const I_SLEEPERS = 48;
/** 1 once a descriptor of the channel went to a process that may not know the ring: the ring is no longer written. */
const I_FOREIGN = 49;
/** 1 once a doorbell was rung and no reader has looked at the socket since: no second one is needed. */
const I_BELL = 50;
/** 1 while a reader spins: one spinner per ring is enough, more only take CPU from the writers. */
const I_SPINNER = 51;
/** How sleeping readers are woken (WAKE_DOORBELL, WAKE_FUTEX), fixed when the ring is made. */
const I_WAKE = 2;
/** The futex of WAKE_FUTEX rings: writers add one and wake every sleeper. */
const I_FUTEX = 52;

/**
 * One reading process (a Pipe's end): a doorbell in the socket, which the
 * reader drops. The reader that drops it is the one that will look at the
 * ring, so no sleeper misses a message.
 */
export const WAKE_DOORBELL = 1;
/**
 * Any number of reading processes (a queue): a futex wake reaches every
 * sleeper, where a doorbell is taken by one reader (which may leave with
 * one message and leave the next to readers that never woke).
 */
export const WAKE_FUTEX = 2;
export type WakeMode = typeof WAKE_DOORBELL | typeof WAKE_FUTEX;
const I_SPILLS_WRITTEN = 64;
const I_SPILLS_READ = 80;
// BigInt64 word indices: the tail at byte 512, the head at byte 640.
const B_TAIL = 64;
const B_HEAD = 80;

// Entry: [length u32][kind u32][payload, padded to 8].
const ENTRY_HEADER = 8;
const KIND_MESSAGE = 1;
const KIND_WRAP = 2;

const align8 = (n: number): number => (n + 7) & ~7;

// A fork child's sleeps are its parent's promises: each ring starts a new one there.
let forks = 0;
/** process.pid is a getter into C++; the lock words take it on every message. */
let pid = process.pid;
const currentPid = (): number => pid;
registerAtFork({
  afterInChild: () => {
    forks++;
    pid = process.pid;
  },
});

/** The rings of one channel end: their memory (a descriptor the end owns) and which one it reads and writes. */
export interface RingEnds {
  fd: number;
  count: number;
  read: Ring | null;
  write: Ring | null;
  readIndex: number | null;
  writeIndex: number | null;
}

/** Whether a process still runs (EPERM: it does, someone else's); a zombie has ended. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // "pid (comm) S ...": the state follows the last parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return true; // no /proc (macOS): kill() said it exists
  }
}

/**
 * How long a reader spins for a message before it sleeps (µs): about what a
 * sleep and its wake cost. It spins only while messages have been coming
 * within that time (a moving average of its waits), and tries once in
 * PROBE_EVERY waits otherwise: a busy machine, where spinning takes the CPU
 * the peer needs to answer, or a quiet channel, costs little spinning.
 */
const SPIN_US = 60;
/** The average wait below which a reader spins: two sleeps' wakes (the peer's, then its own) are about this. */
const SPIN_WHILE_WAITS_UNDER_US = 4 * SPIN_US;
const PROBE_EVERY = 16;

export class Ring {
  readonly #words: Int32Array;
  readonly #wide: BigInt64Array;
  readonly #bytes: Uint8Array;
  /** The data area as words: entry headers. */
  readonly #entries: Int32Array;
  readonly #capacity: number;
  #sleep: Sleep | null = null;
  /** Positions seen last (never ahead of the real ones: both only grow), to skip a 64-bit load when they suffice. */
  #seenHead = 0;
  #seenTail = 0;
  /** The moving average of this reader's waits for a message (µs). */
  #waitUs = SPIN_US / 2;
  #waits = 0;
  readonly #futex: boolean;

  /**
   * `memory`: a mapping of the ring's shared memory; the ring starts
   * `offset` bytes in. `init`: a new ring, woken as `wake` says.
   */
  constructor(memory: SharedArrayBuffer, offset: number, init: false);
  constructor(memory: SharedArrayBuffer, offset: number, init: true, wake: WakeMode);
  constructor(memory: SharedArrayBuffer, offset: number, init: boolean, wake?: WakeMode) {
    this.#words = new Int32Array(memory, offset, HEADER_BYTES / 4);
    this.#wide = new BigInt64Array(memory, offset, HEADER_BYTES / 8);
    this.#bytes = new Uint8Array(memory, offset + HEADER_BYTES, DATA_BYTES);
    this.#entries = new Int32Array(memory, offset + HEADER_BYTES, DATA_BYTES / 4);
    if (init) {
      this.#words[I_CAPACITY] = DATA_BYTES;
      this.#words[I_WAKE] = wake ?? WAKE_DOORBELL;
      Atomics.store(this.#words, I_MAGIC, MAGIC);
    } else {
      const mode = this.#words[I_WAKE];
      if (Atomics.load(this.#words, I_MAGIC) !== MAGIC || this.#words[I_CAPACITY] !== DATA_BYTES || (mode !== WAKE_DOORBELL && mode !== WAKE_FUTEX)) {
        throw new Error('not a message ring of this version of multiprocessing');
      }
    }
    this.#capacity = DATA_BYTES;
    this.#futex = this.#words[I_WAKE] === WAKE_FUTEX;
  }

  // ---- writing (under the write lock) ----

  /**
   * Takes the write lock without waiting. `checkHolder`: take over a lock
   * whose holder died (a system call or two: for retries, not every try).
   */
  tryLockWrite(checkHolder = false): boolean {
    return this.#tryLock(I_WRITE_LOCK, checkHolder);
  }

  unlockWrite(): void {
    Atomics.compareExchange(this.#words, I_WRITE_LOCK, currentPid(), 0);
  }

  /** Whether the next message may take the ring (else it spills to the socket). */
  get writable(): boolean {
    return Atomics.load(this.#words, I_FOREIGN) === 0 && !this.#spillsUnread();
  }

  /** Whether a spill counted by a writer has not been read whole yet. */
  #spillsUnread(): boolean {
    const w = this.#words;
    return Atomics.load(w, I_SPILLS_WRITTEN) !== Atomics.load(w, I_SPILLS_READ);
  }

  /**
   * Copies a message in and publishes it; false (nothing written) when it
   * must take the socket: too long, the ring full, or spills unread.
   * The caller holds the write lock (it rings the doorbell on `fd`, the
   * channel's socket, when a reader sleeps).
   */
  tryWrite(parts: readonly Uint8Array[], length: number, fd: number): boolean {
    if (length > MAX_RING_MESSAGE || !this.writable) return false;
    const cap = this.#capacity;
    // Positions are 64-bit (never reused: see take()); as Numbers they stay exact for 2^53 bytes.
    let tail = Number(Atomics.load(this.#wide, B_TAIL));
    const need = ENTRY_HEADER + align8(length);
    let at = tail % cap;
    const pad = cap - at < need ? cap - at : 0;
    // A head seen earlier understates the room: looked at again only when it seems too little.
    if (tail - this.#seenHead + pad + need > cap) {
      this.#seenHead = Number(Atomics.load(this.#wide, B_HEAD));
      if (tail - this.#seenHead + pad + need > cap) return false;
    }
    const entries = this.#entries;
    if (pad > 0) {
      entries[at >> 2] = 0;
      entries[(at >> 2) + 1] = KIND_WRAP;
      tail += pad;
      at = 0;
    }
    entries[at >> 2] = length;
    entries[(at >> 2) + 1] = KIND_MESSAGE;
    const bytes = this.#bytes;
    let to = at + ENTRY_HEADER;
    for (const part of parts) {
      const n = part.byteLength;
      if (n <= 16) for (let i = 0; i < n; i++) bytes[to + i] = part[i];
      else bytes.set(part, to);
      to += n;
    }
    Atomics.store(this.#wide, B_TAIL, BigInt(tail + need));
    // After the publication: a reader counted itself before it looked (see whenReadable).
    const words = this.#words;
    if (Atomics.load(words, I_SLEEPERS) > 0 && Atomics.exchange(words, I_BELL, 1) === 0) this.#wake(fd);
    return true;
  }

  #wake(fd: number): void {
    if (this.#futex) this.wakeSleepers();
    else ringDoorbell(fd);
  }

  /** Wakes every sleeper of a futex ring (they look again and, finding nothing, sleep again). */
  wakeSleepers(): void {
    if (!this.#futex) return;
    Atomics.add(this.#words, I_FUTEX, 1);
    futexNotify(this.#words, I_FUTEX);
  }

  get wakesByFutex(): boolean {
    return this.#futex;
  }

  /**
   * A reader about to sleep: counts itself, rearms the wake, and returns the
   * futex value to sleep on. It looks at the ring once more before it sleeps.
   */
  prepareSleep(): number {
    const words = this.#words;
    const seen = Atomics.load(words, I_FUTEX);
    Atomics.add(words, I_SLEEPERS, 1);
    Atomics.store(words, I_BELL, 0);
    return seen;
  }

  /** The futex word (for mp.atomics' waits). */
  get futexWord(): { view: Int32Array; index: number } {
    return { view: this.#words, index: I_FUTEX };
  }

  /** Counts a message that goes to the socket instead (before it is written; under the write lock). */
  noteSpill(): void {
    Atomics.add(this.#words, I_SPILLS_WRITTEN, 1);
  }

  /** From now on every message takes the socket (a descriptor of the channel left for an unknown reader or writer). */
  setForeign(): void {
    Atomics.store(this.#words, I_FOREIGN, 1);
  }

  get foreign(): boolean {
    return Atomics.load(this.#words, I_FOREIGN) !== 0;
  }

  // ---- reading ----

  /**
   * The next message from the ring, copied out and taken; SPILL when the
   * next message is in the socket (read one frame there, then call
   * spillTaken()); null when there is none.
   */
  take(): Buffer | typeof SPILL | null {
    const wide = this.#wide;
    const words = this.#words;
    // Spills counted before the ring is looked at: a message in the ring
    // older than the spill is seen below (see the top of this file).
    const spills = Atomics.load(words, I_SPILLS_WRITTEN) - Atomics.load(words, I_SPILLS_READ);
    for (;;) {
      const head = Atomics.load(wide, B_HEAD);
      const headAt = Number(head);
      // A tail seen earlier and still ahead marks published entries: no need to load it again.
      if (this.#seenTail <= headAt) {
        this.#seenTail = Number(Atomics.load(wide, B_TAIL));
        if (this.#seenTail <= headAt) return spills !== 0 ? SPILL : null;
      }
      const tailAt = this.#seenTail;
      const at = headAt % this.#capacity;
      const length = this.#entries[at >> 2];
      const kind = this.#entries[(at >> 2) + 1];
      if (kind === KIND_WRAP) {
        Atomics.compareExchange(wide, B_HEAD, head, BigInt(headAt + this.#capacity - at));
        continue;
      }
      const need = ENTRY_HEADER + align8(length);
      if (kind !== KIND_MESSAGE || length < 0 || at + need > this.#capacity || tailAt - headAt < need) {
        // Read while another reader took the entry and a writer reused the bytes: look again.
        if (Atomics.load(wide, B_HEAD) !== head) continue;
        throw new Error('the message ring is corrupted');
      }
      const start = at + ENTRY_HEADER;
      const copy = Buffer.allocUnsafe(length);
      const bytes = this.#bytes;
      if (length <= 16) for (let i = 0; i < length; i++) copy[i] = bytes[start + i];
      else copy.set(bytes.subarray(start, start + length));
      // The head moves only if no other reader took the entry meanwhile;
      // 64-bit positions are never reused, so a reader that slept between
      // its look and here cannot mistake a later entry for this one.
      if (Atomics.compareExchange(wide, B_HEAD, head, BigInt(headAt + need)) === head) return copy;
    }
  }

  /**
   * Call before a reader that found the ring empty reads the socket (where
   * it may drop a doorbell), then look at the ring once more: a message
   * published before this was seen by that look, one published after it
   * rings a new doorbell.
   */
  rearmDoorbell(): void {
    if (!this.#futex) Atomics.store(this.#words, I_BELL, 0);
  }

  /** A spilled frame was read whole from the socket. */
  spillTaken(): void {
    if (this.#spillsUnread()) Atomics.add(this.#words, I_SPILLS_READ, 1);
  }

  /** Whether take() would find something (a message, or a counted spill). */
  hasData(): boolean {
    return Atomics.load(this.#wide, B_HEAD) !== Atomics.load(this.#wide, B_TAIL) || this.#spillsUnread();
  }

  /** The read lock, for the spills of a channel with several readers (a Queue's). */
  tryLockRead(checkHolder = false): boolean | 'broken' {
    if (!this.#tryLock(I_READ_LOCK, checkHolder)) return false;
    const mid = Atomics.load(this.#words, I_READ_MID_FRAME);
    if (mid !== 0 && mid !== currentPid()) return 'broken'; // its holder died part-way through a frame
    return true;
  }

  /** While set, a reader that dies leaves the socket part-way through a frame. */
  markMidFrame(mid: boolean): void {
    Atomics.store(this.#words, I_READ_MID_FRAME, mid ? currentPid() : 0);
  }

  unlockRead(): void {
    Atomics.compareExchange(this.#words, I_READ_LOCK, currentPid(), 0);
  }

  #tryLock(index: number, checkHolder: boolean): boolean {
    const me = currentPid();
    const holder = Atomics.compareExchange(this.#words, index, 0, me);
    if (holder === 0) return true;
    if (!checkHolder || holder === me || alive(holder)) return false;
    return Atomics.compareExchange(this.#words, index, holder, me) === holder;
  }

  // ---- waiting for data ----

  /**
   * Resolves true once take() may find something or the socket `fd` is
   * readable (end-of-file, a frame from a writer that is not ours), false
   * when timeoutMs passes first; rejects with the signal's reason.
   * Spins a little first, then sleeps; one sleep per process serves
   * every waiter.
   */
  async whenReadable(fd: number, timeoutMs: number | null, signal?: AbortSignal): Promise<boolean> {
    if (this.hasData()) return true;
    if (timeoutMs === 0) return native.pollFd(fd, false, 0);
    if (this.#sleep !== null && this.#sleep.generation !== forks) this.#sleep = null;
    const sleep = this.#sleep;
    const started = monotonicMs();
    if (sleep === null || sleep.waiters === 0) {
      // Let the caller's code of this turn run (it may be the send a reply answers) before spinning.
      await undefined;
      if (this.#spin(started)) return true;
    }
    this.#sleep ??= new Sleep(this);
    const end = timeoutMs === null ? null : started + timeoutMs;
    for (;;) {
      const left = end === null ? null : Math.max(0, end - monotonicMs());
      const woke = await this.#sleep.wait(fd, left, signal);
      if (!woke) return false;
      // The wake may have been for a message another reader took already: look before saying so.
      if (this.hasData() || native.pollFd(fd, false, 0)) {
        this.#waited(monotonicMs() - started);
        return true;
      }
    }
  }

  /** whenReadable(), blocking the thread. */
  whenReadableSync(fd: number, timeoutMs: number | null): boolean {
    if (this.hasData()) return true;
    if (timeoutMs === 0) return native.pollFd(fd, false, 0);
    const started = monotonicMs();
    if (this.#spin(started)) return true;
    const seen = this.prepareSleep();
    try {
      const ready = this.hasData() || this.#sleepSync(fd, seen, timeoutMs);
      if (ready) this.#waited(monotonicMs() - started);
      return ready;
    } finally {
      this.countSleeper(-1);
    }
  }

  #sleepSync(fd: number, seen: number, timeoutMs: number | null): boolean {
    if (!this.#futex) return native.pollFd(fd, false, timeoutMs);
    // The futex in slices, the socket looked at between them: end-of-file
    // and spills arrive there without a wake.
    const end = timeoutMs === null ? Infinity : monotonicMs() + timeoutMs;
    const words = this.#words;
    for (let slice = 1; ; slice = Math.min(slice * 2, 16)) {
      if (native.pollFd(fd, false, 0)) return true;
      const left = end - monotonicMs();
      if (left <= 0) return false;
      native.atomicsWaitSync(words.buffer as SharedArrayBuffer, words.byteOffset + I_FUTEX * 4, false, seen, Math.min(slice, left));
      if (this.hasData()) return true;
      if (Atomics.load(words, I_FUTEX) !== seen) return true;
    }
  }

  /** A reader about to sleep counts itself before it looks a last time; writers look after they publish. */
  countSleeper(delta: 1 | -1): void {
    Atomics.add(this.#words, I_SLEEPERS, delta);
  }

  #waited(ms: number): void {
    this.#waitUs = this.#waitUs * 0.75 + Math.min(ms * 1000, 100 * SPIN_US) * 0.25;
  }

  /** Spins for a message, when waits have been short (see SPIN_US); true if one came. */
  #spin(started: number): boolean {
    if (this.#waitUs > SPIN_WHILE_WAITS_UNDER_US && ++this.#waits % PROBE_EVERY !== 0) return false;
    const words = this.#words;
    if (this.foreign || Atomics.compareExchange(words, I_SPINNER, 0, 1) !== 0) return false;
    try {
      const end = started + SPIN_US / 1000;
      for (let i = 1; ; i++) {
        if (this.hasData()) {
          this.#waited(monotonicMs() - started);
          return true;
        }
        if ((i & 31) === 0 && monotonicMs() >= end) return false;
      }
    } finally {
      Atomics.store(words, I_SPINNER, 0);
    }
  }


}

/** What take() returns when the next message is in the socket. */
export const SPILL = Symbol('spill');

/**
 * A process's sleep on one ring: one poll of the socket and one count among
 * the ring's sleepers, however many calls wait; every waiter looks again
 * when the socket becomes readable.
 */
class Sleep {
  readonly #waiters = new Set<() => void>();
  readonly generation = forks;
  #stop: AbortController | null = null;

  constructor(readonly ring: Ring) {}

  get waiters(): number {
    return this.#waiters.size;
  }

  wait(fd: number, timeoutMs: number | null, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<boolean>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#waiters.delete(wake);
        if (this.#waiters.size === 0) this.#disarm();
      };
      const wake = (): void => {
        finish();
        resolve(true);
      };
      const onAbort = (): void => {
        finish();
        reject(signal?.reason);
      };
      this.#waiters.add(wake);
      if (timeoutMs !== null)
        timer = setTimeout(() => {
          finish();
          resolve(false);
        }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#arm(fd);
    });
  }

  #arm(fd: number): void {
    if (this.#stop !== null) return;
    const stop = new AbortController();
    this.#stop = stop;
    const seen = this.ring.prepareSleep();
    if (this.ring.hasData()) {
      queueMicrotask(() => this.#wakeAll(stop));
      return;
    }
    whenReady(fd, 'read', null, stop.signal).then(
      () => this.#wakeAll(stop),
      () => undefined,
    );
    if (this.ring.wakesByFutex) {
      const { view, index } = this.ring.futexWord;
      this.#futexWaits++;
      const settled = (): void => {
        this.#futexWaits--;
        this.#wakeAll(stop);
      };
      futexWait(view, index, seen).then(settled, settled);
    }
  }

  /** Futex waits of ours (native threads) still pending: disarming must end them. */
  #futexWaits = 0;

  #wakeAll(stop: AbortController): void {
    if (this.#stop !== stop) return;
    this.#disarm();
    for (const wake of [...this.#waiters]) wake();
  }

  #disarm(): void {
    const stop = this.#stop;
    if (stop === null) return;
    this.#stop = null;
    this.ring.countSleeper(-1);
    stop.abort();
    // Ended by the socket, a timeout or an abort: the futex wait must end too (or it keeps the process alive).
    if (this.#futexWaits > 0) this.ring.wakeSleepers();
  }
}

/** A new memory of `count` rings: its descriptor (close-on-exec) and mapping. */
export function createRings(count: number, wake: WakeMode): { fd: number; rings: Ring[] } {
  const size = count * RING_BYTES;
  const fd = native.anonymousShared(size);
  try {
    const memory = native.sharedBufferOf(native.mapShared(fd, size));
    const rings = Array.from({ length: count }, (_, i) => new Ring(memory, i * RING_BYTES, true, wake));
    return { fd, rings };
  } catch (error) {
    native.closeFd(fd);
    throw error;
  }
}

/** Maps the rings of a memory received from another process (`fd` is kept open by the caller). */
export function openRings(fd: number, count: number): Ring[] {
  const size = count * RING_BYTES;
  const held = native.fdSize(fd);
  if (held < size) throw new Error(`a message ring's memory holds ${held} bytes; ${size} expected`);
  const memory = native.sharedBufferOf(native.mapShared(fd, size));
  return Array.from({ length: count }, (_, i) => new Ring(memory, i * RING_BYTES, false));
}


/**
 * One ring in memory of its own, as a queue shares it: reduced to its
 * descriptor, mapped again in the process that revives it.
 */
export class RingMemory {
  #fd: number;
  readonly ring: Ring;
  readonly #token = {};

  constructor(received?: { fd: number }) {
    if (received === undefined) {
      const { fd, rings } = createRings(1, WAKE_FUTEX);
      this.#fd = fd;
      this.ring = rings[0];
    } else {
      native.setInheritable(received.fd, false);
      this.ring = openRings(received.fd, 1)[0];
      this.#fd = received.fd;
    }
    closeWhenCollected.register(this, { fd: this.#fd, pid: process.pid }, this.#token);
  }

  get fd(): number {
    if (this.#fd < 0) throw new Error('the ring memory is closed');
    return this.#fd;
  }

  /** Closes the descriptor; the mapping lives on while the ring is used. */
  close(): void {
    if (this.#fd < 0) return;
    closeWhenCollected.unregister(this.#token);
    native.closeFd(this.#fd);
    this.#fd = -1;
  }

  static {
    register<RingMemory, { fd: number }>('multiprocessing.RingMemory', RingMemory, {
      reduce: (memory, context) => ({ fd: context.addFd(memory.fd) }),
      revive: (state, context) => {
        const fd = context.fd(state.fd);
        try {
          return new RingMemory({ fd });
        } catch (error) {
          native.closeFd(fd);
          throw error;
        }
      },
    });
  }
}
