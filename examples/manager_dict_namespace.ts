// A SyncManager's dict and Namespace: objects that live in the manager's
// server process, used from any process through proxies whose methods are
// async calls to that server. Three workers read a setting from a
// Namespace and write their results into one dict. A value read out of a
// dict is a copy: change it, then set() it back. Python:
//   with Manager() as manager:
//       results = manager.dict(); ns = manager.Namespace(); ns.factor = 10
//       ... results[key] = n * ns.factor ...
import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;

export async function worker(results: mp.managers.DictProxy<string, number>, settings: mp.managers.NamespaceProxy, n: number): Promise<void> {
  const factor = await settings.get<number>('factor');
  await results.set(mp.currentProcess().name, n * factor);
}

async function main(): Promise<void> {
  await using manager = await mp.Manager(); // shut down at the end of main()
  const results = await manager.dict<string, number>();
  const settings = await manager.Namespace({ factor: 10 });

  const workers = [1, 2, 3].map((n) => new mp.Process({ target: worker, args: [results, settings, n], name: `worker-${n}` }));
  for (const p of workers) p.start();
  for (const p of workers) await p.join(JOIN_TIMEOUT_MS);
  const entries = (await results.items()).sort(([a], [b]) => a.localeCompare(b));
  console.log(`results: ${entries.map(([k, v]) => `${k} = ${v}`).join(', ')}`);

  const config = await manager.dict<string, { retries: number }>({ http: { retries: 1 } });
  const http = (await config.get('http')) as { retries: number };
  http.retries = 5; // changes the local copy only
  console.log(`after changing the copy: retries = ${(await config.getItem('http')).retries}`);
  await config.set('http', http); // write it back
  console.log(`after set(): retries = ${(await config.getItem('http')).retries}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
