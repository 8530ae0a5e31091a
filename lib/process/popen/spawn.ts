// The 'spawn' start method (CPython's popen_spawn_posix): a fresh node runs
// entry/spawn_main.js, which reads the preparation data from
// descriptor 3 and the reduced objects' descriptors from 4 on.
import { prepare } from '../../child/preparation';
import { processErrorFrom } from '../../errors';
import { native } from '../../native';
import type { Process } from '../process';
import { spawnNode } from './command';
import { writePipeFrame } from '../../connection/framing';
import { PidPopen } from './pid_popen';

export const PREPARATION_FD = 3;
export const FIRST_PASSED_FD = 4;

export class SpawnPopen extends PidPopen {
  constructor(processObject: Process) {
    const { data, fds } = prepare(processObject, 'spawn');
    const [readEnd, writeEnd] = native.pipe();
    let started: { pid: number; sentinel: number };
    try {
      started = spawnNode('spawn_main', {
        scriptArgs: process.argv.slice(2),
        fds: [[PREPARATION_FD, readEnd], ...fds.map((fd, i): [number, number] => [FIRST_PASSED_FD + i, fd])],
      });
    } catch (error) {
      native.closeFd(writeEnd);
      throw processErrorFrom(error, 'cannot start process');
    } finally {
      native.closeFd(readEnd);
    }
    try {
      // The child reads while we write: a pipe holds only 64 KiB.
      writePipeFrame(writeEnd, data, fds.length);
    } catch {
      // The child died before reading; its exit code tells the story.
    } finally {
      native.closeFd(writeEnd);
    }
    super(started.pid, started.sentinel);
  }
}
