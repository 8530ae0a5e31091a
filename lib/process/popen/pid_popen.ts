// A child this process started itself (fork or spawn): reaped with waitpid,
// its sentinel a descriptor readable once it has ended (a pidfd on Linux).
import { native } from '../../native';
import { ChildPopen } from './child_popen';

export class PidPopen extends ChildPopen {
  protected collect(ended: boolean): void {
    // Once the sentinel says it has ended, reap it, blocking briefly if needed.
    const code = native.waitpid(this.pid, !ended);
    if (code !== null) this.exitCode = code;
  }
}
