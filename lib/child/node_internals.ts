// Node's own queues of pending JS work (timers, immediates, next-ticks)
// live in module scopes of Node's internals. A fork child inherits them
// full of the parent's callbacks; to run only its target, the child empties
// them. The references are found once, in the parent, through the
// inspector (the [[Scopes]] of clearTimeout and process.nextTick), and are
// valid in every fork child since it is a copy. When anything is missing
// (another Node version, no inspector) the child keeps Node's queues as
// they are; docs/ARCHITECTURE.md says what then runs.
import { executionAsyncResource } from 'node:async_hooks';
import { EventEmitter } from 'node:events';

import { debug } from '../util';

interface LinkedItem {
  _idleNext?: LinkedItem | null;
  _destroyed?: boolean;
  hasRef?(): boolean;
}

// Slots of the timers binding's immediateInfo (Node's ImmediateInfo).
const kImmediateCount = 0;
const kImmediateRefCount = 1;
const kImmediateHasOutstanding = 2;

interface PriorityQueue {
  peek(): unknown;
  shift(): unknown;
}

interface TimersBinding {
  timeoutInfo: Int32Array;
  immediateInfo: Uint32Array;
  toggleTimerRef(value: boolean): void;
  toggleImmediateRef(value: boolean): void;
}

interface NodeInternals {
  timerListMap: Record<string, LinkedItem>;
  timerListQueue: PriorityQueue;
  immediateQueue: { head: LinkedItem | null; tail: LinkedItem | null };
  knownTimersById: Record<string, unknown>;
  binding: TimersBinding;
  tickQueue: { isEmpty(): boolean; shift(): unknown };
  setHasTickScheduled: (value: boolean) => void;
}

let captured: NodeInternals | null | undefined;

interface RemoteObject {
  objectId?: string;
}
interface PropertyDescriptor {
  name: string;
  value?: RemoteObject;
}

/** Finds Node's queues (once per process tree; about 5 ms). */
export function captureNodeInternals(): void {
  if (captured !== undefined) return;
  captured = null;
  try {
    captured = capture();
  } catch (error) {
    debug('cannot reach Node internals, parent timers may fire in fork children: %s', String(error));
  }
  warmNodeFunctionsTheChildCalls();
}

// Node's own functions compile lazily too: the ones every fork child calls
// are called once here, harmlessly, so children inherit their bytecode.
// (The parent itself lists events and checks stdio before every fork.)
function warmNodeFunctionsTheChildCalls(): void {
  const emitter = new EventEmitter();
  emitter.on('removeListener', () => {});
  emitter.on('exit', () => {});
  emitter.removeAllListeners('exit');
  // process has Node's own newListener/removeListener handlers (signals).
  const warmEvent = 'multiprocessing:warm';
  process.on(warmEvent, () => {});
  process.removeAllListeners(warmEvent);
}

function capture(): NodeInternals {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const inspector = require('node:inspector') as typeof import('node:inspector');
  const session = new inspector.Session();
  session.connect();
  const post = <T>(method: string, params: object): T => {
    let result: T | undefined;
    let failure: Error | null = null;
    session.post(method, params, (error: Error | null, value?: object) => {
      failure = error;
      result = value as T | undefined;
    });
    if (failure) throw failure;
    if (result === undefined) throw new Error(`${method} answered asynchronously`);
    return result;
  };
  const holder = Symbol('multiprocessing.capture');
  const slots = globalThis as unknown as Record<symbol, unknown>;
  const toValue = (remote: RemoteObject | undefined, name: string): unknown => {
    if (remote?.objectId === undefined) throw new Error(`${name} is not an object`);
    slots[holder] = undefined;
    post('Runtime.callFunctionOn', {
      objectId: remote.objectId,
      functionDeclaration: `function () { globalThis[Symbol.for('${holder.description}')] = this; }`,
    });
    const value = slots[Symbol.for(holder.description as string)];
    delete slots[Symbol.for(holder.description as string)];
    return value;
  };
  const closureOf = (fn: unknown, label: string): Map<string, RemoteObject | undefined> => {
    const key = Symbol.for('multiprocessing.probe');
    slots[key] = fn;
    try {
      const { result } = post<{ result: RemoteObject }>('Runtime.evaluate', {
        expression: `globalThis[Symbol.for('multiprocessing.probe')]`,
      });
      const props = post<{ internalProperties?: PropertyDescriptor[] }>('Runtime.getProperties', {
        objectId: result.objectId,
        ownProperties: false,
      });
      const scopes = props.internalProperties?.find((p) => p.name === '[[Scopes]]');
      const list = post<{ result: PropertyDescriptor[] }>('Runtime.getProperties', {
        objectId: scopes?.value?.objectId,
      });
      const variables = new Map<string, RemoteObject | undefined>();
      for (const scope of list.result) {
        const vars = post<{ result: PropertyDescriptor[] }>('Runtime.getProperties', {
          objectId: scope.value?.objectId,
        });
        for (const v of vars.result) if (!variables.has(v.name)) variables.set(v.name, v.value);
      }
      return variables;
    } catch (error) {
      throw new Error(`cannot read the scope of ${label}: ${String(error)}`);
    } finally {
      delete slots[key];
    }
  };
  try {
    const timers = closureOf(clearTimeout, 'clearTimeout');
    const ticks = closureOf(process.nextTick, 'process.nextTick');
    const get = (scope: Map<string, RemoteObject | undefined>, name: string): unknown =>
      toValue(scope.get(name), name);
    const internals: NodeInternals = {
      timerListMap: get(timers, 'timerListMap') as NodeInternals['timerListMap'],
      timerListQueue: get(timers, 'timerListQueue') as PriorityQueue,
      immediateQueue: get(timers, 'immediateQueue') as NodeInternals['immediateQueue'],
      knownTimersById: get(timers, 'knownTimersById') as NodeInternals['knownTimersById'],
      binding: get(timers, 'binding') as TimersBinding,
      tickQueue: get(ticks, 'queue') as NodeInternals['tickQueue'],
      setHasTickScheduled: get(ticks, 'setHasTickScheduled') as NodeInternals['setHasTickScheduled'],
    };
    const b = internals.binding;
    if (
      !(b.timeoutInfo instanceof Int32Array) ||
      typeof b.toggleTimerRef !== 'function' ||
      typeof b.toggleImmediateRef !== 'function' ||
      typeof internals.timerListQueue.shift !== 'function' ||
      typeof internals.tickQueue.shift !== 'function'
    ) {
      throw new Error('unexpected shape of Node internals');
    }
    return internals;
  } finally {
    session.disconnect();
  }
}

/** Marks a linked list's items destroyed; returns how many of them were ref'd. */
function destroyChain(head: LinkedItem | null | undefined, stop: LinkedItem | null): number {
  let refs = 0;
  for (let item = head; item && item !== stop; item = item._idleNext) {
    if (item._destroyed) continue;
    if (item.hasRef?.()) refs++;
    item._destroyed = true;
  }
  return refs;
}

/**
 * The parent's JS immediates are dropped. Their refs come off the ref count,
 * which also holds the refs of native (C++) immediates: those still run in
 * the child and take their own refs off, so zeroing the count would wrap it
 * below zero and leave the child's own setImmediate() unable to keep it
 * alive. Forked from inside an immediate's callback, the rest of that batch
 * hangs off the running immediate, not the queue.
 */
function dropInheritedImmediates(n: NodeInternals): void {
  const info = n.binding.immediateInfo;
  let droppedRefs = destroyChain(n.immediateQueue.head, null);
  const running = executionAsyncResource() as LinkedItem;
  if (running?.constructor?.name === 'Immediate') droppedRefs += destroyChain(running._idleNext, null);
  n.immediateQueue.head = null;
  n.immediateQueue.tail = null;
  info[kImmediateCount] = 0;
  info[kImmediateHasOutstanding] = 0;
  info[kImmediateRefCount] = Math.max(0, info[kImmediateRefCount] - droppedRefs);
  if (info[kImmediateRefCount] === 0) n.binding.toggleImmediateRef(false);
}

/**
 * In the parent, just before fork(): whether the child will find any of
 * this process's timers, immediates or ticks to forget. Asked here, where
 * the code is warm and the pages are not copy-on-write, so that most
 * children skip dropInheritedJsWork() altogether.
 */
export function hasPendingJsWork(): boolean {
  const n = captured;
  if (!n) return false;
  for (const _ in n.timerListMap) return true;
  for (const _ in n.knownTimersById) return true;
  if (n.timerListQueue.peek() !== undefined || n.binding.timeoutInfo[0] !== 0) return true;
  const info = n.binding.immediateInfo;
  if (n.immediateQueue.head !== null || info[kImmediateCount] !== 0 || info[kImmediateRefCount] !== 0) return true;
  if (info[kImmediateHasOutstanding] !== 0) return true;
  if ((executionAsyncResource() as LinkedItem)?.constructor?.name === 'Immediate') return true;
  return !n.tickQueue.isEmpty();
}

/** In a fork child: forgets the parent's pending timers, immediates and ticks. */
export function dropInheritedJsWork(): boolean {
  const n = captured;
  if (!n) return false;
  for (const key of Object.keys(n.timerListMap)) {
    const list = n.timerListMap[key];
    destroyChain(list._idleNext, list);
    delete n.timerListMap[key];
  }
  while (n.timerListQueue.peek() !== undefined) n.timerListQueue.shift();
  for (const key of Object.keys(n.knownTimersById)) delete n.knownTimersById[key];
  n.binding.timeoutInfo[0] = 0;
  n.binding.toggleTimerRef(false);
  dropInheritedImmediates(n);
  while (!n.tickQueue.isEmpty()) n.tickQueue.shift();
  n.setHasTickScheduled(false);
  return true;
}
