// SharedMemoryManager (Python's managers.SharedMemoryManager): segments
// made through it belong to its server, which unlinks every one of them
// when it stops (shutdown, exit, or the death of the process that started it).
import { ShareableList, type ShareableValue } from '../sharedmem/shareable_list';
import { SharedMemory } from '../sharedmem/shared_memory';
import { BaseManager } from './manager';

/**
 * A manager that hands out shared memory (Python's `SharedMemoryManager`):
 * segments and ShareableLists made through it are created in this process
 * and belong to its server, which unlinks every one of them when it stops
 * (shutdown, exit, or the death of the process that started it).
 *
 * @category Managers
 * @example
 * ```ts
 * await using smm = await new mp.SharedMemoryManager().start();
 * const shm = await smm.SharedMemory(4096);
 * const list = await smm.ShareableList([0, 0, 0]);
 * console.log(await smm.listSegments()); // both names
 * ```
 */
export class SharedMemoryManager extends BaseManager {
  /** @internal */
  static override _serverKind = 'shared_memory' as const;

  /** A new segment of `size` bytes, made here, unlinked by the server when it stops. */
  async SharedMemory(size: number): Promise<SharedMemory> {
    const shm = new SharedMemory({ create: true, size, track: false });
    try {
      await this._callServer('trackSegment', [shm.name]);
    } catch (error) {
      shm.unlink();
      shm.close();
      throw error;
    }
    return shm;
  }

  /** A new ShareableList of `sequence`, made here, unlinked by the server when it stops. */
  async ShareableList(sequence?: Iterable<ShareableValue> | null): Promise<ShareableList> {
    const list = new ShareableList(sequence ?? [], { track: false });
    try {
      await this._callServer('trackSegment', [list.shm.name]);
    } catch (error) {
      list.shm.unlink();
      list.shm.close();
      throw error;
    }
    return list;
  }

  /** The names of the segments the server will unlink. */
  async listSegments(): Promise<string[]> {
    return (await this._callServer('listSegments', [])) as string[];
  }

  /** Unlinks one segment now and forgets it. */
  async releaseSegment(name: string): Promise<void> {
    await this._callServer('releaseSegment', [name]);
  }
}
