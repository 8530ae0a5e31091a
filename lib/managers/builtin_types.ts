// What SyncManager's server makes for each typeid (Python's SyncManager
// registry, server side).
import { Pool, type PoolOptions } from '../pool/index';
import {
  ArrayReferent,
  DictReferent,
  ListReferent,
  NamespaceReferent,
  ValueReferent,
} from './container_referents';
import { BaseProxy } from './proxy';
import { JoinableQueueReferent, QueueReferent } from './queue_referent';
import { localServer, type ServerTypeSpec } from './server';
import {
  BarrierReferent,
  BoundedSemaphoreReferent,
  ConditionReferent,
  EventReferent,
  LockReferent,
  RLockReferent,
  SemaphoreReferent,
  type BarrierOptions,
  type OwnableLock,
} from './sync_referents';

/** A Condition's lock arrives as a proxy of this server's Lock or RLock: the Condition uses the referent. */
function lockReferent(lock: unknown): OwnableLock | null {
  if (lock === undefined || lock === null) return null;
  if (lock instanceof BaseProxy) {
    const server = localServer(lock.token.address);
    const referent = server?.referentObject(lock.token.id);
    if (referent instanceof LockReferent || referent instanceof RLockReferent) return referent;
  }
  throw new TypeError("The \"lock\" argument must be a Lock or RLock proxy of the same manager");
}

const POOL_METHODS = ['apply', 'applyAsync', 'map', 'mapAsync', 'starmap', 'starmapAsync', 'imap', 'imapUnordered', 'close', 'join', 'terminate'];

const builtins: Record<string, Omit<ServerTypeSpec, 'typeid'>> = {
  list: { callable: (init?: Iterable<unknown>) => new ListReferent(init), exposed: null, methodToTypeid: null },
  dict: { callable: (init?: unknown) => new DictReferent(init), exposed: null, methodToTypeid: null },
  Namespace: { callable: (init?: Record<string, unknown>) => new NamespaceReferent(init), exposed: null, methodToTypeid: null },
  Value: { callable: (typecode: string, value: unknown) => new ValueReferent(typecode, value), exposed: null, methodToTypeid: null },
  Array: { callable: (typecode: string, sequence: Iterable<number>) => new ArrayReferent(typecode, sequence), exposed: null, methodToTypeid: null },
  Queue: { callable: (maxsize?: number) => new QueueReferent(maxsize), exposed: null, methodToTypeid: null },
  JoinableQueue: { callable: (maxsize?: number) => new JoinableQueueReferent(maxsize), exposed: null, methodToTypeid: null },
  Lock: { callable: () => new LockReferent(), exposed: null, methodToTypeid: null },
  RLock: { callable: () => new RLockReferent(), exposed: ['acquire', 'release'], methodToTypeid: null },
  Semaphore: { callable: (value?: number) => new SemaphoreReferent(value), exposed: null, methodToTypeid: null },
  BoundedSemaphore: { callable: (value?: number) => new BoundedSemaphoreReferent(value), exposed: null, methodToTypeid: null },
  Condition: { callable: (lock?: unknown) => new ConditionReferent(lockReferent(lock)), exposed: null, methodToTypeid: null },
  Event: { callable: () => new EventReferent(), exposed: null, methodToTypeid: null },
  Barrier: { callable: (parties: number, options?: BarrierOptions) => new BarrierReferent(parties, options), exposed: null, methodToTypeid: null },
  Pool: {
    callable: (options?: number | PoolOptions) => new Pool(options),
    exposed: POOL_METHODS,
    methodToTypeid: { applyAsync: 'AsyncResult', mapAsync: 'AsyncResult', starmapAsync: 'AsyncResult', imap: 'Iterator', imapUnordered: 'Iterator' },
  },
  AsyncResult: { callable: null, exposed: ['get', 'wait', 'ready', 'successful'], methodToTypeid: null },
  Iterator: { callable: null, exposed: ['next', 'return'], methodToTypeid: null },
};

export const SYNC_MANAGER_TYPEIDS: readonly string[] = Object.keys(builtins);

export function builtinServerType(typeid: string): ServerTypeSpec {
  const spec = builtins[typeid];
  if (spec === undefined) throw new TypeError(`'${typeid}' is not one of SyncManager's types`);
  return { typeid, ...spec };
}
