// The 'fork' start method (CPython's popen_fork): the child is a fork() of
// this process and runs the Process object it was given, never returning
// from start().
import { inspectInheritedState, runForkChild } from '../../child/fork_child';
import { captureNodeInternals } from '../../child/node_internals';
import { processErrorFrom } from '../../errors';
import { assertForkAbi, native } from '../../native';
import type { Process } from '../process';
import { currentProcess } from '../process';
import { runAfterForkHooks, runBeforeForkHooks } from '../at_fork';
import { PidPopen } from './pid_popen';

export class ForkPopen extends PidPopen {
  constructor(processObject: Process) {
    assertForkAbi();
    captureNodeInternals();
    const parent = currentProcess();
    runBeforeForkHooks();
    const inherited = inspectInheritedState();
    let result;
    try {
      result = native.fork({ dieWithParent: processObject.daemon });
    } catch (error) {
      runAfterForkHooks('afterInParent');
      throw processErrorFrom(error, 'cannot start process');
    }
    if (result.pid === 0) runForkChild(processObject, parent, inherited);
    for (const error of runAfterForkHooks('afterInParent')) {
      process.emitWarning(`registerAtFork afterInParent hook threw: ${String(error)}`);
    }
    super(result.pid, result.sentinel as number);
  }
}
