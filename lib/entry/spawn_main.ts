// The first script of a 'spawn' child: `node [parent's options] spawn_main.js
// [parent's arguments]`. It reads the preparation data from descriptor 3,
// becomes the child, runs it and exits with its code.
import '../child/code_cache'; // first: the package's modules below compile from the cache
import { native } from '../native';
import { becomeChild, readPreparation } from '../child/preparation';
import { exitWithoutTeardown, makeStdioSynchronous, reportFailure, UNSETTLED_EXIT_CODE } from '../child/fork_child';
import { info, isPromiseLike } from '../util';
import { FIRST_PASSED_FD, PREPARATION_FD } from '../process/popen/spawn';
import { readPipeFrame } from '../connection/framing';
import { markStartup, writeStartupTrace } from '../child/startup_trace';

markStartup('child');

const SIGKILL = 9;

// Nothing forks from this process's package code unless it starts children
// of its own; eager compilation would only slow its start (eager_begin.ts).
(globalThis as Record<symbol, unknown>)[Symbol.for('multiprocessing.lazyCompile')] = true;

/**
 * Node's own exit tears the runtime down (platform threads, the isolate):
 * 2-5 ms a spawn child need not spend once its 'exit' listeners have run
 * (stdout and stderr are written synchronously, as in fork children). Kept
 * when something writes its report at that teardown: coverage
 * (NODE_V8_COVERAGE) or a profiler.
 */
function somethingReportsAtExit(): boolean {
  return (
    process.env.NODE_V8_COVERAGE !== undefined ||
    [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((option) =>
      /^--(cpu-prof|heap-prof|prof)(=|$|-)/.test(option),
    )
  );
}

function main(): void {
  if (!somethingReportsAtExit()) exitWithoutTeardown();
  let name = 'Process';
  let state: 'running' | 'settled' = 'running';
  const fail = (error: unknown): never => {
    reportFailure(name, error);
    process.exit(1);
  };
  process.on('uncaughtException', fail);
  process.on('beforeExit', () => {
    if (state !== 'running') return;
    reportFailure(name, 'run() returned a promise that can never settle (nothing is left that could wake the event loop)');
    process.exit(UNSETTLED_EXIT_CODE);
  });
  const frame = readPipeFrame(PREPARATION_FD);
  if (frame === null) throw new Error('the parent sent no preparation data, or only part of it');
  const { data, fdCount } = frame;
  native.closeFd(PREPARATION_FD);
  const preparation = readPreparation(data);
  name = preparation.name;
  if (preparation.daemon) {
    native.setParentDeathSignal(SIGKILL);
    if (native.getppid() !== preparation.parentPid) process.exit(1);
  }
  makeStdioSynchronous('stdout', 1);
  makeStdioSynchronous('stderr', 2);
  const fds = Array.from({ length: fdCount }, (_, i) => FIRST_PASSED_FD + i);
  becomeChild(preparation, fds, __filename)
    .then((child) => {
      name = child.name;
      info('child process calling self.run()');
      markStartup('run');
      const result = child.run();
      return isPromiseLike(result) ? result : undefined;
    })
    .then(() => {
      state = 'settled';
      markStartup('ran');
      writeStartupTrace('spawn');
      const code = process.exitCode;
      process.exit(typeof code === 'number' ? code : 0);
    }, fail);
}

main();
