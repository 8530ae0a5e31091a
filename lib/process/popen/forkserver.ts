// The 'forkserver' start method (CPython's popen_forkserver): the server
// forks the child; this process keeps one connection per child, on which
// the server writes the child's pid and, when it has ended, its exit code.
// That connection is the sentinel.
import { prepare } from '../../child/preparation';
import { ProcessError, processErrorFrom } from '../../errors';
import { connectToForkserver, forkserverFailed } from '../forkserver';
import { encodeRequest, REPLY_BYTES, UNKNOWN_EXIT_CODE } from '../forkserver_wire';
import { native } from '../../native';
import type { Process } from '../process';
import { currentProcess } from '../process';
import { ChildPopen } from './child_popen';

/** Python's code for a child whose end the forkserver could not report. */

/** The server closed the connection before it answered, or did not answer in time. */
class ServerGone extends ProcessError {
  constructor(
    message: string,
    readonly unresponsive = false,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * How long start() waits for the server's answer. The server reads every
 * request from one poll loop and forks in milliseconds, so only a server
 * that is wedged takes this long; it is then replaced.
 */
let replyTimeoutMs = 30000;

/** @internal Tests: how long start() waits for the server's answer. */
export function setForkserverReplyTimeout(ms: number): void {
  replyTimeoutMs = ms;
}

/** Sends one request; returns the pid of the child the server forked. */
function request(connection: number, data: Buffer, fds: number[]): number {
  let reply: Buffer;
  try {
    native.sendMessage(connection, encodeRequest(currentProcess().authkey, data), fds);
    if (native.pollFds([connection], replyTimeoutMs).length === 0) {
      throw new ServerGone(`the forkserver did not answer within ${replyTimeoutMs / 1000} s`, true);
    }
    reply = native.readExact(connection, 4);
  } catch (error) {
    if (error instanceof ServerGone) throw error;
    const code = (error as { code?: string }).code;
    if (code === 'ECONNRESET' || code === 'EPIPE') {
      throw new ServerGone('the forkserver closed the connection without starting the process', false, { cause: error });
    }
    throw error;
  }
  if (reply.length < REPLY_BYTES) throw new ServerGone('the forkserver closed the connection without starting the process');
  const pid = reply.readInt32LE(0);
  if (pid <= 0) throw new ProcessError(`the forkserver could not fork the process (errno ${-pid})`, { errno: pid });
  return pid;
}

export class ForkserverPopen extends ChildPopen {
  constructor(processObject: Process) {
    const { data, fds } = prepare(processObject, 'forkserver');
    let started: { pid: number; connection: number } | undefined;
    // A server that is dying may still take a connection and then drop it
    // unanswered: then the request goes to a new server, once.
    for (let attempt = 0; started === undefined; attempt++) {
      const connection = connectToForkserver();
      try {
        started = { pid: request(connection, data, fds), connection };
      } catch (error) {
        native.closeFd(connection);
        if (error instanceof ServerGone && attempt === 0) {
          forkserverFailed({ unresponsive: error.unresponsive });
          continue;
        }
        throw error instanceof ProcessError ? error : processErrorFrom(error, 'cannot start process');
      }
    }
    super(started.pid, started.connection);
  }

  /** The server writes the exit code on the connection; EOF without one is Python's 255. */
  protected collect(ended: boolean): void {
    if (!ended && native.pollFds([this.sentinel], 0).length === 0) return;
    let status: Buffer;
    try {
      status = native.readExact(this.sentinel, 4);
    } catch {
      status = Buffer.alloc(0);
    }
    this.exitCode = status.length === REPLY_BYTES ? status.readInt32LE(0) : UNKNOWN_EXIT_CODE;
  }
}
