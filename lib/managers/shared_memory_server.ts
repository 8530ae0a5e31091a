// SharedMemoryManager's server (Python's SharedMemoryServer): it tracks
// the segments its clients made and unlinks them when it stops.
import { native } from '../native';
import * as resourceTracker from '../sharedmem/resource_tracker';
import type { ServerOptions } from './server';

export function sharedMemoryServerParts(): Pick<ServerOptions, 'extensions' | 'onStop'> {
  const segments = new Set<string>();
  const unlink = (name: string): void => {
    try {
      native.shmUnlink(`/${name}`);
    } catch {
      // Already gone: someone unlinked it.
    }
    resourceTracker.unregister(`/${name}`, 'shared_memory');
  };
  return {
    extensions: {
      trackSegment(name: string): void {
        if (typeof name !== 'string' || name === '') throw new TypeError('The "name" argument must be a segment name');
        // The server's tracker removes them should the server itself be killed.
        resourceTracker.register(`/${name}`, 'shared_memory');
        segments.add(name);
      },
      releaseSegment(name: string): void {
        if (segments.delete(name)) unlink(name);
      },
      listSegments(): string[] {
        return [...segments];
      },
    },
    onStop() {
      for (const name of segments) unlink(name);
      segments.clear();
    },
  };
}
