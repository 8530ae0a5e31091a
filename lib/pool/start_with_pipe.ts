// Starting a daemonic worker process that talks to its parent over a Pipe
// of its own (a Pool's workers, a cluster worker's processes).
import { Pipe, type Connection } from '../connection';
import type { Context } from '../context';
import type { Process } from '../process/process';

/**
 * Starts `target(end, ...args)` in a daemonic process of `context`, `end`
 * one end of a new Pipe; returns the process and the other end. `rename`
 * turns the default name (`Process-N`) into the worker's. A start that
 * fails closes both ends.
 */
export function startWithPipe(
  context: Context,
  target: (end: Connection, ...args: never[]) => unknown,
  args: unknown[],
  rename: (name: string) => string,
): { process: Process; conn: Connection } {
  const [ours, theirs] = Pipe();
  const process = new context.Process({ target, args: [theirs, ...args], daemon: true });
  process.name = rename(process.name);
  try {
    process.start();
  } catch (error) {
    ours.close();
    throw error;
  } finally {
    theirs.close();
  }
  return { process, conn: ours };
}
