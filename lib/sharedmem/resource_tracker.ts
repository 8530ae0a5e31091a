// The client side of the resource tracker (CPython's resource_tracker.py):
// one tracker process per process tree is told of every named segment and
// semaphore this package creates, and removes those still present once
// every process holding the write end of its pipe has died, however they
// died. Fork children inherit the pipe; spawn and forkserver children are
// handed it with their preparation data (child/preparation.ts).
import { native } from '../native';
import { encodeRecord, type ResourceType } from './tracker_records';
import { spawnNode } from '../process/popen/command';
import { loggingSettings } from '../logging';
import { debug, subDebug, warning } from '../util';

export type { ResourceType } from './tracker_records';

let trackerFd = -1;

/** The write end of the tracker's pipe, starting the tracker on first use. */
export function ensureRunning(): number {
  if (trackerFd < 0) trackerFd = startTracker();
  return trackerFd;
}

/** In a spawn or forkserver child: the tracker its parent uses. */
export function adoptTracker(fd: number): void {
  native.setInheritable(fd, false);
  if (trackerFd >= 0 && trackerFd !== fd) native.closeFd(trackerFd);
  trackerFd = fd;
}

export function register(name: string, type: ResourceType): void {
  send('REGISTER', name, type);
}

export function unregister(name: string, type: ResourceType): void {
  // Nothing to tell a tracker never started: nothing was registered with it.
  if (trackerFd >= 0) send('UNREGISTER', name, type);
}

function send(command: 'REGISTER' | 'UNREGISTER', name: string, type: ResourceType): void {
  const record = encodeRecord(command, name, type);
  subDebug('resource_tracker: %s %s %s', command, type, name);
  try {
    native.writeAll(ensureRunning(), record);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
    // The tracker died (someone killed it): a new one takes over from here.
    warning('resource_tracker: process died unexpectedly, relaunching.  Some resources might leak.');
    native.closeFd(trackerFd);
    trackerFd = startTracker();
    native.writeAll(trackerFd, record);
  }
}

/** The tracker logs as this process does when it starts it (it serves the whole tree, and outlives it). */
function trackerArgs(): string[] {
  const { level, toStderr } = loggingSettings();
  return [`--log-level=${level}`, ...(toStderr ? ['--log-to-stderr'] : [])];
}

function startTracker(): number {
  const [readEnd, writeEnd] = native.pipe();
  try {
    const { pid } = spawnNode('resource_tracker_main', { fds: [[3, readEnd]], detached: true, scriptArgs: trackerArgs() });
    debug('resource tracker started, pid %d', pid);
  } catch (error) {
    native.closeFd(writeEnd);
    throw error;
  } finally {
    native.closeFd(readEnd);
  }
  return writeEnd;
}
