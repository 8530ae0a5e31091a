// SharedMemory (CPython's multiprocessing.shared_memory): a POSIX shared
// memory segment, named as Python names them, whose `buf` is a Buffer over
// the mapping itself.
import { getSystemErrorMap } from 'node:util';

import { native } from '../native';
import { register as registerReducer } from '../serialize/reduction';
import * as resourceTracker from './resource_tracker';
import { nodeCrypto } from '../util';

/**
 * What `new SharedMemory(options)` takes.
 *
 * @category Shared memory
 * @example
 * ```ts
 * const options: mp.SharedMemoryOptions = { name: 'myapp_frames', create: true, size: 1 << 20 }; // 1 MiB
 * using shm = new mp.SharedMemory(options);
 * // another process attaches: new mp.SharedMemory({ name: 'myapp_frames' })
 * ```
 */
export interface SharedMemoryOptions {
  /** The segment's name, without or with one leading slash; random (`psm_` + hex) when creating without one. */
  name?: string;
  /**
   * true: create a new segment of `size` bytes (an Error with `code: 'EEXIST'`
   * if the name exists); false, the default: attach to the segment `name`
   * (`code: 'ENOENT'` if there is none).
   */
  create?: boolean;
  /** Bytes; needed (> 0) when creating, ignored when attaching. */
  size?: number;
  /**
   * false: the resource tracker never removes the segment (attach to another
   * program's segment). Default true: it is removed once every process of
   * this package that used it has died, even by SIGKILL.
   */
  track?: boolean;
}

const NAME_PREFIX = 'psm_';
/** macOS allows 31 bytes with the slash; Linux 255. */
const NAME_MAX = process.platform === 'darwin' ? 30 : 255;

/** A Node-style system error: "EEXIST: file already exists, shm_open 'psm_1a2b3c4d'" with errno, code, syscall and path. */
function systemError(error: unknown, path: string): Error {
  const { errno, syscall } = error as { errno?: number; syscall?: string };
  if (typeof errno !== 'number' || typeof syscall !== 'string') return error as Error;
  const [code, description] = getSystemErrorMap().get(errno) ?? ['UNKNOWN', 'unknown error'];
  const wrapped = Object.assign(new Error(`${code}: ${description}, ${syscall} '${path}'`), { errno, code, syscall, path });
  return wrapped;
}

function checkName(name: unknown): string {
  if (typeof name !== 'string') throw new TypeError(`The "options.name" property must be a string; received ${typeof name}`);
  const bare = name.startsWith('/') ? name.slice(1) : name;
  // Control characters too: a name travels in records (the resource tracker's) and in messages to people.
  if (bare === '' || bare.includes('/') || /[\u0000-\u001f\u007f]/.test(bare) || Buffer.byteLength(bare) > NAME_MAX) {
    throw new RangeError(
      `The "options.name" property must be a shared memory name: 1 to ${NAME_MAX} bytes, no "/" but an optional leading one, ` +
        `no control characters; received ${JSON.stringify(name)}`,
    );
  }
  return bare;
}

function checkSize(size: unknown, creating: boolean): number {
  if (size === undefined) size = 0;
  if (typeof size !== 'number') throw new TypeError(`The "options.size" property must be a number; received ${typeof size}`);
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(`The "options.size" property must be a non-negative integer; received ${size}`);
  }
  if (creating && size === 0) throw new RangeError("The \"options.size\" property must be greater than 0 when creating a segment ('create: true')");
  return size;
}

const kTrack = Symbol('multiprocessing.sharedMemory.track');

interface Mapping {
  arrayBuffer: ArrayBuffer;
  buf: Buffer;
}

/**
 * A named POSIX shared-memory segment (Python's
 * `multiprocessing.shared_memory.SharedMemory`, same names, sizes and
 * layout): create one with `{ create: true, size }`, attach to it by `name`
 * from any process, Python programs included. `buf` is a Buffer over the
 * mapping itself, and `sharedBuffer` the same memory as a SharedArrayBuffer
 * for `Atomics` and {@link atomics}. A SharedMemory passed to a child
 * arrives attached to the same segment. `unlink()` removes the segment; the
 * resource tracker also removes it once every process that used it has died.
 *
 * @category Shared memory
 * @example
 * ```ts
 * using shm = new mp.SharedMemory({ create: true, size: 1024 });
 * shm.buf.write('hello');
 * // in any process: new mp.SharedMemory({ name: shm.name }) sees the same bytes
 * console.log(shm.name); // psm_1a2b3c4d
 * shm.unlink(); // the name goes; `using` closes this mapping at the end of the block
 * ```
 */
export class SharedMemory {
  readonly #name: string;
  readonly #size: number;
  readonly #track: boolean;
  #mapping: Mapping | null;

  /**
   * Creates or attaches to a segment and maps it.
   *
   * @throws an Error with `code` `'EEXIST'` (creating a name that exists) or
   * `'ENOENT'` (attaching to a missing one), naming the segment; TypeError or
   * RangeError for a bad name (1 to 255 bytes, 30 on macOS; no `/` but a
   * leading one), a size of 0 when creating, or options of the wrong type.
   */
  constructor(options: SharedMemoryOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
    const create = options.create === true;
    if (options.create !== undefined && typeof options.create !== 'boolean') {
      throw new TypeError('The "options.create" property must be a boolean');
    }
    if (options.track !== undefined && typeof options.track !== 'boolean') {
      throw new TypeError('The "options.track" property must be a boolean');
    }
    const requested = checkSize(options.size, create);
    if (options.name === undefined || options.name === null) {
      if (!create) throw new TypeError('The "options.name" property is needed to attach to a segment (only create: true makes up a name)');
    }
    const given = options.name === undefined || options.name === null ? null : checkName(options.name);
    this.#track = options.track !== false;

    let opened: { fd: number; size: number };
    let name: string;
    if (given === null) {
      for (;;) {
        name = NAME_PREFIX + nodeCrypto().randomBytes(4).toString('hex');
        try {
          opened = native.shmOpen(`/${name}`, true, requested);
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw systemError(error, name);
        }
      }
    } else {
      name = given;
      try {
        opened = native.shmOpen(`/${name}`, create, requested);
      } catch (error) {
        throw systemError(error, name);
      }
    }
    try {
      if (this.#track) resourceTracker.register(`/${name}`, 'shared_memory');
      const arrayBuffer = native.mapShared(opened.fd, opened.size);
      this.#mapping = { arrayBuffer, buf: Buffer.from(arrayBuffer, 0, opened.size) };
    } catch (error) {
      // Nothing half made: a segment created here goes again.
      if (create) {
        try {
          native.shmUnlink(`/${name}`);
        } catch {
          // already gone
        }
        if (this.#track) resourceTracker.unregister(`/${name}`, 'shared_memory');
      }
      throw systemError(error, name);
    } finally {
      // The mapping stays valid without the descriptor.
      native.closeFd(opened.fd);
    }
    this.#name = name;
    this.#size = opened.size;
  }

  /** The name without its leading slash, as Python reports it (`psm_…` when made up). */
  get name(): string {
    return this.#name;
  }

  /** The segment's size in bytes (when attaching, as the OS reports it). */
  get size(): number {
    return this.#size;
  }

  /**
   * The mapping itself as a Buffer: writes are seen by every process that
   * maps the segment. Throws once close() has run.
   */
  get buf(): Buffer {
    if (this.#mapping === null) throw new Error(`SharedMemory '${this.#name}' is closed`);
    return this.#mapping.buf;
  }

  #sharedBuffer: SharedArrayBuffer | null = null;

  /**
   * The same mapping as a SharedArrayBuffer: `Atomics` on views of it act
   * on the segment every process maps, and mp.atomics waits and wakes
   * across them. Throws once close() has run.
   */
  get sharedBuffer(): SharedArrayBuffer {
    if (this.#mapping === null) throw new Error(`SharedMemory '${this.#name}' is closed`);
    this.#sharedBuffer ??= native.sharedBufferOf(this.#mapping.arrayBuffer);
    return this.#sharedBuffer;
  }

  /**
   * Lets go of this process's view of the segment at once. Buffers taken
   * from `buf` before, and native work still using one (zlib, crypto, fs
   * on the threadpool), then see private zero pages instead of the segment:
   * nothing reaches unmapped memory, and the address range is given back
   * when the last of them is collected. The segment stays for other
   * processes until unlink(). Closing twice does nothing.
   */
  close(): void {
    const mapping = this.#mapping;
    if (mapping === null) return;
    this.#mapping = null;
    this.#sharedBuffer = null;
    native.releaseShared(mapping.arrayBuffer);
  }

  /**
   * Removes the segment's name (once, by one process): no process can attach
   * any more, and the memory goes when the last mapping is closed. Mappings
   * stay valid until closed.
   *
   * @throws an Error with `code: 'ENOENT'` when the name is already gone.
   */
  unlink(): void {
    try {
      native.shmUnlink(`/${this.#name}`);
    } catch (error) {
      throw systemError(error, this.#name);
    }
    if (this.#track) resourceTracker.unregister(`/${this.#name}`, 'shared_memory');
  }

  /** `using shm = …`: close() at the end of the scope (the segment itself stays). */
  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal Whether the resource tracker watches it. */
  [kTrack](): boolean {
    return this.#track;
  }

  /** Python's repr: `SharedMemory('psm_1a2b3c4d', size=1024)`. */
  toString(): string {
    return `SharedMemory('${this.#name}', size=${this.#size})`;
  }

  /** @internal What util.inspect shows: toString(). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

interface SharedMemoryState {
  name: string;
  track: boolean;
}

// As Python's __reduce__: the receiver attaches by name.
registerReducer<SharedMemory, SharedMemoryState>('multiprocessing.SharedMemory', SharedMemory, {
  reduce: (shm) => ({ name: shm.name, track: shm[kTrack]() }),
  revive: (state) => new SharedMemory({ name: state.name, track: state.track }),
});

