// What a process does with its children when it exits (Python's
// util._exit_function): daemonic children are terminated, the others joined.
import { activeChildren } from './process';
import { debug } from './util';

let installed = false;

export function finishChildrenAtExit(): void {
  for (const child of activeChildren()) {
    if (child.daemon) {
      debug('calling terminate() for daemon %s', child.name);
      child.terminate();
    }
  }
  for (const child of activeChildren()) {
    debug('calling joinSync() for process %s', child.name);
    child.joinSync();
  }
}

/** Installs the exit handler once per process (again in each fork child). */
export function ensureExitHandler(forceReinstall = false): void {
  if (installed && !forceReinstall) return;
  installed = true;
  process.on('exit', finishChildrenAtExit);
}
