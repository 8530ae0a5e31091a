// The 'spawn' start method (CPython's popen_spawn_posix): a fresh node runs
// bootstrap/spawn_main.js, which reads the preparation data from
// descriptor 3 and the reduced objects' descriptors from 4 on.
import * as fs from 'node:fs';

import { prepare } from '../bootstrap/preparation';
import { processErrorFrom } from '../errors';
import { ensureExitHandler } from '../exit';
import { native } from '../native';
import type { Process } from '../process';
import { bootstrapScript, environment, nodeOptions } from './command';
import { PidPopen } from './pid_popen';

export const PREPARATION_FD = 3;
export const FIRST_PASSED_FD = 4;

export class SpawnPopen extends PidPopen {
  constructor(processObject: Process) {
    const { data, fds } = prepare(processObject, 'spawn');
    ensureExitHandler();
    const script = bootstrapScript('spawn_main');
    const [readEnd, writeEnd] = native.pipe();
    const devNull = fs.openSync('/dev/null', 'r');
    let started: { pid: number; sentinel: number };
    try {
      started = native.spawnProcess({
        file: process.execPath,
        args: [process.execPath, ...nodeOptions(), script, ...process.argv.slice(2)],
        env: environment(),
        cwd: process.cwd(),
        fds: [
          [0, devNull],
          [1, 1],
          [2, 2],
          [PREPARATION_FD, readEnd],
          ...fds.map((fd, i): [number, number] => [FIRST_PASSED_FD + i, fd]),
        ],
      });
    } catch (error) {
      native.closeFd(writeEnd);
      throw processErrorFrom(error, 'cannot start process');
    } finally {
      native.closeFd(readEnd);
      fs.closeSync(devNull);
    }
    try {
      const header = Buffer.allocUnsafe(8);
      header.writeUInt32LE(data.length, 0);
      header.writeUInt32LE(fds.length, 4);
      // The child reads while we write: a pipe holds only 64 KiB.
      native.writeAll(writeEnd, Buffer.concat([header, data]));
    } catch {
      // The child died before reading; its exit code tells the story.
    } finally {
      native.closeFd(writeEnd);
    }
    super(started.pid, started.sentinel);
  }
}
