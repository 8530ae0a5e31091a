// A manager of your own: register a class with a BaseManager subclass, and
// the manager's server process holds its instances while other processes
// call their methods through proxies (each call is an async message to the
// server). Four processes share one Tally through its proxy; since the
// server runs one call at a time on its referent, no increment is lost.
// Register at the module's top level, so children that import the module
// know the type too. Python:
//   class MyManager(BaseManager): pass
//   MyManager.register('Tally', Tally)
//   with MyManager() as manager:
//       tally = manager.Tally()
import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;

/** Lives in the manager's server process. */
export class Tally {
  readonly #counts = new Map<string, number>();

  add(word: string): number {
    const n = (this.#counts.get(word) ?? 0) + 1;
    this.#counts.set(word, n);
    return n;
  }

  top(): Array<[string, number]> {
    return [...this.#counts].sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  }
}

/** What a proxy of a Tally offers: every public method, made async. */
export interface TallyProxy extends mp.BaseProxy {
  add(word: string): Promise<number>;
  top(): Promise<Array<[string, number]>>;
}

export class TallyManager extends mp.BaseManager {
  declare Tally: () => Promise<TallyProxy>;
}
TallyManager.register('Tally', Tally);

export async function count(tally: TallyProxy, words: string[]): Promise<void> {
  for (const word of words) await tally.add(word);
}

async function main(): Promise<void> {
  await using manager = await new TallyManager().start();
  const tally = await manager.Tally();
  const text = 'the cat and the dog and the bird';
  const workers = [0, 1, 2, 3].map(() => new mp.Process({ target: count, args: [tally, text.split(' ')] }));
  for (const p of workers) p.start();
  for (const p of workers) await p.join(JOIN_TIMEOUT_MS);
  console.log(`4 processes counted "${text}":`);
  console.log(`  ${(await tally.top()).map(([word, n]) => `${word}=${n}`).join(' ')}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
