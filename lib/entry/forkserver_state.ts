// What the forkserver holds open, shared by its request path
// (forkserver_main.ts) and its warm children (warm_children.ts): a child
// the server forks closes all of it but its own.
import { ALIVE_FD, LISTENER_FD, type Pending } from '../process/forkserver_wire';
import { native } from '../native';

export interface Child {
  pid: number;
  connection: number;
  /** A warm child asked to report the pages it wrote writes them here before it exits. */
  report?: number;
}

/** A child forked ahead of any request, blocked reading its job from `channel` (Android's USAP). */
export interface WarmChild {
  pid: number;
  sentinel: number;
  channel: number;
}

/** What the server holds open; a child it forks closes all of it but its own. */
export interface ServerState {
  children: Map<number, Child>; // by sentinel
  pending: Map<number, Pending>; // by connection
  warm: WarmChild[]; // idle, oldest first
}

/** The child: none of the server's descriptors but the ones it was sent. */
export function closeServerDescriptors(state: ServerState, alsoClose: number[]): void {
  for (const fd of [LISTENER_FD, ALIVE_FD, ...alsoClose]) native.closeFd(fd);
  for (const [other, request] of state.pending) {
    native.closeFd(other);
    for (const fd of request.fds) native.closeFd(fd);
  }
  for (const [sentinel, other] of state.children) {
    native.closeFd(sentinel);
    native.closeFd(other.connection);
    if (other.report !== undefined) native.closeFd(other.report);
  }
  for (const other of state.warm) {
    native.closeFd(other.sentinel);
    native.closeFd(other.channel);
  }
}
