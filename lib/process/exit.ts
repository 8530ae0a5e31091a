// What a process does when it exits (Python's util._exit_function), in
// three stages, each hook once per process:
//   'flush'    what this process put on a queue or sent on a connection is
//              handed to the OS: a child being joined may be waiting for it,
//              and with no feeder thread nothing else would write it now;
//   'children' daemonic children are terminated, the others joined;
//   'release'  what the children needed until they ended: the forkserver,
//              the names of the semaphores this process created.
// With Python's log messages around them; a child's last one is its exit code.
import { isChildProcess } from './current';
import { debug, info } from '../util';

export type ExitStage = 'flush' | 'children' | 'release';

const stages: Record<ExitStage, Array<() => void>> = { flush: [], children: [], release: [] };
let installedFor = 0;

/** Runs `hook` when this process exits (and in each child, when it exits), at `stage`. */
export function atExit(stage: ExitStage, hook: () => void): void {
  stages[stage].push(hook);
  installExitHandler();
}

/** Listens for this process's exit; a fork child, which dropped its parent's listeners, calls it again. */
export function installExitHandler(): void {
  if (installedFor === process.pid) return;
  installedFor = process.pid;
  process.on('exit', runExitStages);
}

function runExitStages(code: number): void {
  info('process shutting down');
  debug('running all "atexit" finalizers with priority >= 0');
  runStage('flush');
  runStage('children');
  debug('running the remaining "atexit" finalizers');
  runStage('release');
  if (isChildProcess()) info('process exiting with exitcode %d', code);
}

function runStage(stage: ExitStage): void {
  for (const hook of stages[stage]) {
    try {
      hook();
    } catch (error) {
      debug('exit (%s): %s', stage, String(error));
    }
  }
}
