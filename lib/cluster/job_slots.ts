// What a cluster worker process holds, in memory its supervisor shares: one
// slot per job in hand (held, or running since when), written by the process
// without a message (the supervisor need not wake for every job) and read
// by the supervisor when it must act: the process died, its pool cancelled
// a job, a lock needs renewing. A slot is written state-last and read
// between two reads of its version, so a read never mixes two jobs.
import { RawArray } from '../sharedmem/sharedctypes';

/**
 * Jobs a process holds at once (its BullMQ concurrency): the one running
 * and one fetched ahead, whose fetch then overlaps the running task instead
 * of following it; they still run one at a time, in order.
 */
export const SLOTS = 2;
const ID_BYTES = 200;
const TOKEN_BYTES = 100;
// Layout of a slot: version i32, state i32 (both through Atomics, for their order), started f64,
// id length u16, token length u16, id, token.
const VERSION = 0;
const STATE = 4;
const STARTED = 8;
const ID_LENGTH = 16;
const TOKEN_LENGTH = 18;
const ID = 20;
const TOKEN = ID + ID_BYTES;
const SLOT_BYTES = Math.ceil((TOKEN + TOKEN_BYTES) / 8) * 8;

const EMPTY = 0;
const HELD = 1;
const RUNNING = 2;

export interface SlotJob {
  id: string;
  token: string;
  running: boolean;
  /** Date.now() when it started running, or when it was taken. */
  since: number;
}

export class JobSlots {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #words: Int32Array;

  /** New slots (made by the supervisor), or the bytes a process was given. */
  constructor(bytes: Uint8Array = RawArray('B', SLOTS * SLOT_BYTES)) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#words = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
  }

  /** What goes to the process (a shared array, crossing as a live handle). */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  /** The process took `id`: false when no slot is free or it does not fit (the supervisor then hears nothing of it). */
  hold(id: string, token: string): boolean {
    const slot = this.#find('');
    if (slot < 0) return false;
    const base = slot * SLOT_BYTES;
    const idBytes = Buffer.from(id);
    const tokenBytes = Buffer.from(token);
    if (idBytes.length > ID_BYTES || tokenBytes.length > TOKEN_BYTES) return false;
    this.#bump(base);
    this.#bytes.set(idBytes, base + ID);
    this.#bytes.set(tokenBytes, base + TOKEN);
    this.#view.setUint16(base + ID_LENGTH, idBytes.length, true);
    this.#view.setUint16(base + TOKEN_LENGTH, tokenBytes.length, true);
    this.#view.setFloat64(base + STARTED, Date.now(), true);
    this.#setState(base, HELD);
    this.#bump(base);
    return true;
  }

  /** `id` starts running now. */
  start(id: string): void {
    const slot = this.#find(id);
    if (slot < 0) return;
    const base = slot * SLOT_BYTES;
    this.#bump(base);
    this.#view.setFloat64(base + STARTED, Date.now(), true);
    this.#setState(base, RUNNING);
    this.#bump(base);
  }

  /** `id` is done (or was never run). */
  release(id: string): void {
    const slot = this.#find(id);
    if (slot < 0) return;
    const base = slot * SLOT_BYTES;
    this.#bump(base);
    this.#setState(base, EMPTY);
    this.#bump(base);
  }

  /** The jobs in hand, as the supervisor reads them. */
  jobs(): SlotJob[] {
    const jobs: SlotJob[] = [];
    for (let slot = 0; slot < SLOTS; slot++) {
      const job = this.#read(slot * SLOT_BYTES);
      if (job !== null) jobs.push(job);
    }
    return jobs;
  }

  #read(base: number): SlotJob | null {
    for (let attempt = 0; attempt < 100; attempt++) {
      const before = Atomics.load(this.#words, (base + VERSION) >> 2);
      if (before % 2 !== 0) continue; // being written
      const state = this.#state(base);
      if (state === EMPTY) return null;
      const job: SlotJob = {
        id: this.#text(base + ID, this.#view.getUint16(base + ID_LENGTH, true)),
        token: this.#text(base + TOKEN, this.#view.getUint16(base + TOKEN_LENGTH, true)),
        running: state === RUNNING,
        since: this.#view.getFloat64(base + STARTED, true),
      };
      if (Atomics.load(this.#words, (base + VERSION) >> 2) === before) return job;
    }
    return null;
  }

  /** The slot holding `id` ('' : a free one), written only by the process, so read without the version. */
  #find(id: string): number {
    for (let slot = 0; slot < SLOTS; slot++) {
      const base = slot * SLOT_BYTES;
      const state = this.#state(base);
      if (id === '' ? state === EMPTY : state !== EMPTY && this.#text(base + ID, this.#view.getUint16(base + ID_LENGTH, true)) === id) return slot;
    }
    return -1;
  }

  #text(offset: number, length: number): string {
    return Buffer.from(this.#bytes.buffer, this.#bytes.byteOffset + offset, length).toString();
  }

  #bump(base: number): void {
    Atomics.add(this.#words, (base + VERSION) >> 2, 1);
  }

  #state(base: number): number {
    return Atomics.load(this.#words, (base + STATE) >> 2);
  }

  #setState(base: number, state: number): void {
    Atomics.store(this.#words, (base + STATE) >> 2, state);
  }
}
