// What a started manager's server process runs (Python's
// BaseManager._run_server): serve until shut down, or until the process
// that started it is gone.
import type { Connection } from '../connection/connection';
import type { Address } from '../connection/listener';
import { parentProcess } from '../process/process';
import { debug } from '../util';
import { builtinServerType } from './builtin_types';
import { Server, type ServerTypeSpec } from './server';
import { sharedMemoryServerParts } from './shared_memory_server';

/** A registry entry as it crosses to the server: SyncManager's own types by name. */
export type SentTypeSpec = ServerTypeSpec | { typeid: string; builtin: true };

export type ServerKind = 'base' | 'shared_memory';

export function resolveSpecs(specs: readonly SentTypeSpec[]): ServerTypeSpec[] {
  return specs.map((spec) => ('builtin' in spec ? builtinServerType(spec.typeid) : spec));
}

export function makeServer(kind: ServerKind, specs: readonly SentTypeSpec[], address: Address | null, authkey: Uint8Array): Server {
  const parts = kind === 'shared_memory' ? sharedMemoryServerParts() : {};
  return new Server({ registry: resolveSpecs(specs), address, authkey, ...parts });
}

export async function runManagerServer(
  kind: ServerKind,
  specs: SentTypeSpec[],
  address: Address | null,
  authkey: Uint8Array,
  writer: Connection,
  starter: Connection,
  initializer: ((...args: never[]) => unknown) | null,
  initargs: unknown[],
): Promise<void> {
  // Ctrl-C reaches the whole process group: the program decides when its manager stops (as Python since bpo-36368).
  process.on('SIGINT', () => {});
  let server: Server;
  try {
    if (initializer !== null) await (initializer as (...args: unknown[]) => unknown)(...initargs);
    server = makeServer(kind, specs, address, authkey);
  } catch (error) {
    writer.send({ error });
    writer.close();
    starter.close();
    process.exitCode = 1;
    return;
  }
  server.serveConnection(starter);
  writer.send({ address: server.address });
  writer.close();
  const parent = parentProcess();
  parent?.join().then(
    () => {
      debug('manager: the process that started it is gone; shutting down');
      void server.shutdown();
    },
    () => undefined,
  );
  await server.serveForever();
  process.exit(0);
}
