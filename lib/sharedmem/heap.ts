// The shared heap behind Value, Array, RawValue and RawArray (CPython's
// heap.py idea): small blocks are cut from a few arenas of nameless shared
// memory (memfd) instead of one segment each. An arena crosses to spawn and
// forkserver children, queues and pipes as a descriptor, so the kernel keeps
// it alive exactly as long as some process maps or holds it: nothing is left
// in /dev/shm, however the processes die.

import { SerializationError } from '../errors';
import { native } from '../native';
import type { ReduceContext, ReviveContext } from '../serialize/reduction';
import { info, nodeCrypto } from '../util';
import { registerAtFork } from '../process/at_fork';

export interface Arena {
  /** Names the arena across processes, so that each maps it once. */
  readonly token: string;
  readonly fd: number;
  readonly size: number;
  readonly buffer: ArrayBuffer;
}

export interface Block {
  readonly arena: Arena;
  readonly offset: number;
  readonly size: number;
}

/** What crosses for a block: the arena's descriptor travels beside. */
export interface BlockState {
  token: string;
  fd: number;
  arenaSize: number;
  offset: number;
  size: number;
}

const ALIGNMENT = 8;
const FIRST_ARENA = 16 * native.pageSize;
/** Arenas double in size up to here; bigger blocks get an arena of their own. */
const LARGEST_SHARED_ARENA = 4 * 1024 * 1024;

/** Every arena mapped in this process, made here or received. */
const arenas = new Map<string, Arena>();

function newArena(size: number): Arena {
  info('allocating a new mmap of length %d', size);
  const fd = native.anonymousShared(size);
  try {
    const arena = { token: nodeCrypto().randomBytes(8).toString('hex'), fd, size, buffer: native.mapShared(fd, size) };
    arenas.set(arena.token, arena);
    return arena;
  } catch (error) {
    native.closeFd(fd);
    throw error;
  }
}

interface ArenaSpace {
  arena: Arena;
  /** Free [start, end) ranges, sorted, never adjacent. */
  free: Array<[number, number]>;
}

class Allocator {
  readonly #spaces: ArenaSpace[] = [];
  #nextArenaSize = FIRST_ARENA;

  malloc(size: number): Block {
    const wanted = Math.max(ALIGNMENT, Math.ceil(size / ALIGNMENT) * ALIGNMENT);
    for (const space of this.#spaces) {
      const block = this.#cut(space, wanted, size);
      if (block !== null) return block;
    }
    const pageRounded = Math.ceil(wanted / native.pageSize) * native.pageSize;
    const arenaSize = Math.max(pageRounded, this.#nextArenaSize);
    if (this.#nextArenaSize < LARGEST_SHARED_ARENA) this.#nextArenaSize *= 2;
    const space: ArenaSpace = { arena: newArena(arenaSize), free: [[0, arenaSize]] };
    this.#spaces.push(space);
    return this.#cut(space, wanted, size) as Block;
  }

  free(block: Block): void {
    const space = this.#spaces.find((s) => s.arena === block.arena);
    if (space === undefined) return;
    const start = block.offset;
    const end = start + Math.max(ALIGNMENT, Math.ceil(block.size / ALIGNMENT) * ALIGNMENT);
    const free = space.free;
    let i = 0;
    while (i < free.length && free[i][0] < start) i++;
    free.splice(i, 0, [start, end]);
    if (i + 1 < free.length && free[i][1] === free[i + 1][0]) free.splice(i, 2, [free[i][0], free[i + 1][1]]);
    if (i > 0 && free[i - 1][1] === free[i][0]) free.splice(i - 1, 2, [free[i - 1][0], free[i][1]]);
    // Freed memory reads as zero again when it is handed out next time.
    new Uint8Array(block.arena.buffer, start, end - start).fill(0);
  }

  #cut(space: ArenaSpace, wanted: number, size: number): Block | null {
    const free = space.free;
    for (let i = 0; i < free.length; i++) {
      const [start, end] = free[i];
      if (end - start < wanted) continue;
      if (end - start === wanted) free.splice(i, 1);
      else free[i] = [start + wanted, end];
      return { arena: space.arena, offset: start, size };
    }
    return null;
  }
}

// A fork child allocates from arenas of its own (its parent goes on using
// the inherited ones), and never frees a block that might be in use across
// a fork: the count says whether a fork happened since a block was made.
let allocator: Allocator | null = null;
let forks = 0;
registerAtFork({
  before: () => {
    forks++;
  },
  afterInChild: () => {
    allocator = null;
  },
});

interface HeldBlock {
  block: Block;
  forks: number;
  allocator: Allocator;
}

const escaped = new WeakSet<Block>();
const collected = new FinalizationRegistry<HeldBlock>((held) => {
  if (held.forks === forks && held.allocator === allocator && !escaped.has(held.block)) held.allocator.free(held.block);
});

/** A zeroed block of `size` bytes. */
export function allocate(size: number): Block {
  allocator ??= new Allocator();
  return allocator.malloc(size);
}

/** Gives `block` back to the heap when `owner` is collected, unless it crossed to another process meanwhile. */
export function freeWhenCollected(owner: object, block: Block): void {
  if (allocator !== null) collected.register(owner, { block, forks, allocator });
}

export function reduceBlock(block: Block, context: ReduceContext): BlockState {
  // Some other process may use it from now on, for as long as it likes.
  escaped.add(block);
  const { arena } = block;
  return { token: arena.token, fd: context.addFd(arena.fd), arenaSize: arena.size, offset: block.offset, size: block.size };
}

export function reviveBlock(state: BlockState, context: ReviveContext): Block {
  // Nothing in the state is taken on trust: a mapping larger than its
  // descriptor's file would end in SIGBUS at the first touch past the end.
  const { token, arenaSize, offset, size } = state;
  if (typeof token !== 'string' || !isSize(arenaSize) || arenaSize === 0 || !isSize(offset) || !isSize(size)) {
    throw new SerializationError('a shared block with a malformed description');
  }
  if (offset + size > arenaSize) {
    throw new SerializationError(`a shared block of ${size} bytes at ${offset} lies beyond its arena of ${arenaSize}`);
  }
  const fd = context.fd(state.fd);
  let arena = arenas.get(token);
  if (arena !== undefined) {
    native.closeFd(fd);
  } else {
    try {
      const held = native.fdSize(fd);
      if (arenaSize > held) {
        throw new SerializationError(`a shared block claims an arena of ${arenaSize} bytes; its descriptor holds ${held}`);
      }
      native.setInheritable(fd, false);
      arena = { token, fd, size: arenaSize, buffer: native.mapShared(fd, arenaSize) };
    } catch (error) {
      native.closeFd(fd);
      throw error;
    }
    arenas.set(arena.token, arena);
  }
  if (offset + size > arena.size) {
    throw new SerializationError(`a shared block of ${size} bytes at ${offset} lies beyond this process's arena of ${arena.size}`);
  }
  const block: Block = { arena, offset, size };
  escaped.add(block);
  return block;
}

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
