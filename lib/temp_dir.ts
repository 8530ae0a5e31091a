// The process's private temporary directory (CPython's util.get_temp_dir):
// made by mkdtemp (mode 0700) on first use, shared by fork children, removed
// when the process that made it exits, and by the resource tracker should
// that process be killed.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { atExit } from './process/exit';
import * as resourceTracker from './sharedmem/resource_tracker';
import { info } from './util';

let made: { dir: string; pid: number } | null = null;

/** `<tmpdir>/mp-<what>-XXXXXX`, readable and writable by this user only. */
export function privateTempDir(): string {
  if (made !== null) return made.dir;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-process-'));
  try {
    // mkdtemp gives 0700 already; a umask cannot widen it, but say it anyway.
    fs.chmodSync(dir, 0o700);
    resourceTracker.register(dir, 'folder');
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  info('created temp directory %s', dir);
  made = { dir, pid: process.pid };
  atExit('release', removePrivateTempDir);
  return dir;
}

function removePrivateTempDir(): void {
  if (made === null || made.pid !== process.pid) return;
  const { dir } = made;
  made = null;
  fs.rmSync(dir, { recursive: true, force: true });
  resourceTracker.unregister(dir, 'folder');
}
