// The resource tracker process (`node resource_tracker_main.js`, started by
// resource_tracker.ts in its own session, parented by init): it reads
// REGISTER/UNREGISTER records (tracker_records.ts) from descriptor 3 until
// every writer is gone, then removes what is still registered and says so
// on stderr, as CPython's tracker warns: a WARNING of the logger when the
// process that started it logged to stderr, else Python's UserWarning line.
// It loads nothing but the addon, util.ts and the logger.
// Only processes of its tree hold the pipe; even so a name is only ever a
// name, and a folder is removed only if it is one of the package's own
// temporary directories.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { nameUnmanagedProcess } from '../process/current';
import { WARNING, adoptLoggingSettings, getLogger, isLogging } from '../logging';
import { native } from '../native';
import { decodeRecords } from '../sharedmem/tracker_records';
import { debug } from '../util';

const INPUT_FD = 3;
const cleaners: Record<string, (name: string) => void> = {
  shared_memory: (name) => native.shmUnlink(name),
  semaphore: (name) => native.semUnlink(name),
  folder: (name) => {
    // Gone already (a forkserver removes its own when its parent dies, and cannot unregister it): nothing leaked.
    if (!fs.existsSync(name)) return;
    if (!isOwnTemporaryDirectory(name)) throw new Error('not one of the package\'s temporary directories: left alone');
    fs.rmSync(name, { recursive: true });
  },
};

/** A directory mkdtemp made for the package (tmpdir/mp-<what>-XXXXXX), this user's, not a link. */
function isOwnTemporaryDirectory(name: string): boolean {
  if (path.dirname(name) !== os.tmpdir() || !/^mp-[a-z]+-[A-Za-z0-9]{6}$/.test(path.basename(name))) return false;
  try {
    const stat = fs.lstatSync(name, { bigint: true });
    return stat.isDirectory() && Number(stat.uid) === process.getuid?.();
  } catch {
    return false;
  }
}
/** Resources the package makes for itself, not the user: removed without a warning. */
const quiet = new Set(['folder']);

const registered = new Map<string, Set<string>>(Object.keys(cleaners).map((type) => [type, new Set<string>()]));

function apply(record: { command: string; type: string; name: string }): void {
  const names = registered.get(record.type) as Set<string>;
  if (record.command === 'REGISTER') names.add(record.name);
  else names.delete(record.name);
}

function warn(message: string): void {
  if (isLogging(WARNING)) {
    getLogger().warning(message);
    return;
  }
  try {
    fs.writeSync(2, `(multiprocessing resource_tracker:${process.pid}) UserWarning: ${message}\n`);
  } catch {
    // stderr is gone: nobody is left to tell
  }
}

/** Applies every record until end of file; after bytes that are no record, only waits for the end. */
function readAll(): void {
  const chunk = Buffer.allocUnsafe(65536);
  let pending = Buffer.alloc(0);
  let readable = true;
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(INPUT_FD, chunk, 0, chunk.length, null);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EINTR' || code === 'EAGAIN') continue;
      throw error;
    }
    if (n === 0) return;
    if (!readable) continue;
    pending = Buffer.concat([pending, chunk.subarray(0, n)]);
    const { records, used, malformed } = decodeRecords(pending);
    for (const record of records) apply(record);
    pending = pending.subarray(used);
    if (malformed !== null) {
      warn(`resource_tracker: ${malformed}; the rest of the input is ignored`);
      readable = false;
    }
  }
}

function cleanUp(): void {
  for (const [type, names] of registered) {
    const removed: string[] = [];
    for (const name of names) {
      try {
        cleaners[type](name);
        debug('resource_tracker: removed %s %s', type, name);
        removed.push(name);
      } catch (error) {
        // Already removed by someone else (the registration outlived it): nothing leaked.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') warn(`resource_tracker: ${JSON.stringify(name)}: ${String(error)}`);
      }
    }
    if (removed.length > 0 && !quiet.has(type)) {
      warn(
        `resource_tracker: There appear to be ${removed.length} leaked ${type} objects to clean up at shutdown: ` +
          removed.map((name) => `'${name}'`).join(', '),
      );
    }
  }
}

/** --log-level=N and --log-to-stderr: the logging of the process that started the tracker. */
function adoptLogging(args: readonly string[]): void {
  let level = 0;
  for (const arg of args) {
    const match = /^--log-level=(\d+)$/.exec(arg);
    if (match !== null) level = Number(match[1]);
  }
  const toStderr = args.includes('--log-to-stderr');
  adoptLoggingSettings({ level, toStderr });
  // The tree that reads our stderr may be gone by the time we write to it.
  if (toStderr) process.stderr.on('error', () => undefined);
}

nameUnmanagedProcess('ResourceTracker');
adoptLogging(process.argv.slice(2));
// Python's tracker ignores these too: a Ctrl-C meant for the program must
// not kill the one process that cleans up after it.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);
readAll();
cleanUp();
