// The resource tracker process (`node resource_tracker_main.js`, started by
// resource_tracker.ts in its own session, parented by init): it reads
// "REGISTER|UNREGISTER:<name>:<type>" lines from descriptor 3 until every
// writer is gone, then removes what is still registered and says so on
// stderr, as CPython's tracker warns. It loads nothing but the addon.
import * as fs from 'node:fs';

import { native } from '../native';

const INPUT_FD = 3;
const cleaners: Record<string, (name: string) => void> = {
  shared_memory: (name) => native.shmUnlink(name),
  semaphore: (name) => native.semUnlink(name),
  folder: (name) => fs.rmSync(name, { recursive: true }),
};
/** Resources the package makes for itself, not the user: removed without a warning. */
const quiet = new Set(['folder']);

const registered = new Map<string, Set<string>>(Object.keys(cleaners).map((type) => [type, new Set<string>()]));

function apply(line: string): void {
  const first = line.indexOf(':');
  const last = line.lastIndexOf(':');
  if (first <= 0 || last === first) return warn(`resource_tracker: cannot read the line ${JSON.stringify(line)}`);
  const command = line.slice(0, first);
  const name = line.slice(first + 1, last);
  const names = registered.get(line.slice(last + 1));
  if (names === undefined) return warn(`resource_tracker: unknown resource type in ${JSON.stringify(line)}`);
  if (command === 'REGISTER') names.add(name);
  else if (command === 'UNREGISTER') names.delete(name);
  else if (command !== 'PROBE') warn(`resource_tracker: unknown command in ${JSON.stringify(line)}`);
}

function warn(message: string): void {
  try {
    fs.writeSync(2, `(multiprocessing resource_tracker:${process.pid}) UserWarning: ${message}\n`);
  } catch {
    // stderr is gone: nobody is left to tell
  }
}

function readAll(onLine: (line: string) => void): void {
  const chunk = Buffer.allocUnsafe(65536);
  let pending = '';
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
    pending += chunk.toString('latin1', 0, n);
    let end: number;
    while ((end = pending.indexOf('\n')) >= 0) {
      onLine(pending.slice(0, end));
      pending = pending.slice(end + 1);
    }
  }
}

function cleanUp(): void {
  for (const [type, names] of registered) {
    const removed: string[] = [];
    for (const name of names) {
      try {
        cleaners[type](name);
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

// Python's tracker ignores these too: a Ctrl-C meant for the program must
// not kill the one process that cleans up after it.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);
readAll(apply);
cleanUp();
