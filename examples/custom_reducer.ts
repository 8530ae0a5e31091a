// Teaching the package to send a class of your own: mp.reduction.register
// gives it reduce() (the instance to plain, serializable state) and
// revive() (that state back to an instance), as Python's copyreg and
// reduction.register do for pickle. Without it, an instance of an exported
// class crosses with its own enumerable fields only, so a class that keeps
// its state in private (#) fields would arrive empty. Register at the
// module's top level, under an id unique to your program, so that every
// process that imports the module (spawn and forkserver children do) can
// revive it. It works for arguments and for Queue and Pipe messages alike.
// Python:
//   copyreg.pickle(Histogram, lambda h: (Histogram.from_counts, (h.counts(),)))
import * as mp from '../lib/index';

const WAIT_MS = 10_000;

/** Counts values in buckets; its state is private. */
export class Histogram {
  readonly #counts = new Map<string, number>();

  static fromCounts(counts: Array<[string, number]>): Histogram {
    const h = new Histogram();
    for (const [bucket, n] of counts) h.#counts.set(bucket, n);
    return h;
  }

  add(bucket: string, n = 1): this {
    this.#counts.set(bucket, (this.#counts.get(bucket) ?? 0) + n);
    return this;
  }

  counts(): Array<[string, number]> {
    return [...this.#counts];
  }

  toString(): string {
    return this.counts().map(([bucket, n]) => `${bucket}:${n}`).join(' ');
  }
}

mp.reduction.register('examples.Histogram', Histogram, {
  reduce: (h) => h.counts(),
  revive: (counts: Array<[string, number]>) => Histogram.fromCounts(counts),
});

/** Receives a Histogram as an argument, adds to it, and sends it back through a queue. */
export async function addInChild(h: Histogram, back: mp.Queue<Histogram>): Promise<void> {
  console.log(`[child] received a ${h.constructor.name}: ${h}`);
  await back.put(h.add('b', 10).add('c'));
}

async function main(): Promise<void> {
  const h = new Histogram().add('a').add('b', 2);
  const back = new mp.Queue<Histogram>();
  for (const method of ['fork', 'spawn', 'forkserver'] as const) {
    const p = new (mp.getContext(method).Process)({ target: addInChild, args: [h, back] });
    p.start();
    const returned = await back.get({ timeout: WAIT_MS });
    await p.join(WAIT_MS);
    console.log(`[${method}] came back as a Histogram: ${returned instanceof Histogram}; ${returned}`);
  }
  console.log(`the parent's own: ${h}`);
  back.close();
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
