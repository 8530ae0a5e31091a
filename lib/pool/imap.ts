// Pool.imap / imapUnordered: results of chunks pulled lazily from an
// iterable (which may be endless), with at most `window` chunks in the pool
// or finished but not yet taken, so that memory stays flat.

type Settled<R> = { ok: true; values: ArrayLike<R> } | { ok: false; error: Error };

/** Submits one chunk; `settle` is called once with its results (or its error). */
export type SubmitChunk = (items: unknown[], settle: (ok: boolean, value: unknown) => void) => void;

export class ImapIterator<R> implements AsyncIterableIterator<R> {
  readonly #source: AsyncIterator<unknown>;
  readonly #chunkSize: number;
  readonly #window: number;
  readonly #ordered: boolean;
  readonly #submit: SubmitChunk;
  /** Ordered: finished chunks by index, until their turn. */
  readonly #finished = new Map<number, Settled<R>>();
  /** Unordered: finished chunks as they came. */
  readonly #ready: Array<Settled<R>> = [];
  /** Results of the chunk being yielded. */
  readonly #buffered: R[] = [];
  #nextChunk = 0;
  #nextToYield = 0;
  #inFlight = 0;
  #exhausted = false;
  /** The input's own error, and the chunk it stands for: earlier chunks' results come first (CPython). */
  #inputError: { chunk: number; error: Error } | null = null;
  #stopped = false;
  #wake: (() => void) | null = null;

  constructor(source: AsyncIterator<unknown>, options: { chunkSize: number; window: number; ordered: boolean; submit: SubmitChunk }) {
    this.#source = source;
    this.#chunkSize = options.chunkSize;
    this.#window = options.window;
    this.#ordered = options.ordered;
    this.#submit = options.submit;
  }

  async next(): Promise<IteratorResult<R>> {
    for (;;) {
      if (this.#buffered.length > 0) return { value: this.#buffered.shift() as R, done: false };
      if (this.#stopped) return { value: undefined, done: true };
      await this.#fill();
      const settled = this.#take();
      if (settled !== undefined) {
        if (!settled.ok) {
          this.#stopped = true;
          throw settled.error;
        }
        // A Float64Array when the worker sent numbers: copied item by item either way.
        for (let i = 0; i < settled.values.length; i++) this.#buffered.push(settled.values[i]);
        continue;
      }
      if (this.#exhausted && this.#inFlight === 0 && this.#finished.size === 0 && this.#ready.length === 0) {
        this.#stopped = true;
        return { value: undefined, done: true };
      }
      await new Promise<void>((resolve) => {
        this.#wake = () => {
          this.#wake = null;
          resolve();
        };
      });
    }
  }

  /** Breaking out of the loop: no more input is read; what is running finishes unobserved. */
  async return(): Promise<IteratorResult<R>> {
    this.#stopped = true;
    await this.#source.return?.();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async #fill(): Promise<void> {
    while (!this.#exhausted && !this.#stopped && this.#inFlight + this.#finished.size + this.#ready.length < this.#window) {
      const items = await this.#readChunk();
      if (items.length === 0) break;
      const index = this.#nextChunk++;
      this.#inFlight++;
      this.#submit(items, (ok, value) => {
        this.#inFlight--;
        const settled: Settled<R> = ok ? { ok: true, values: value as ArrayLike<R> } : { ok: false, error: value as Error };
        if (this.#ordered) this.#finished.set(index, settled);
        else this.#ready.push(settled);
        this.#wake?.();
      });
    }
  }

  /** Up to a chunk of input; an input error ends the input and takes the place of the chunk being read. */
  async #readChunk(): Promise<unknown[]> {
    const items: unknown[] = [];
    while (items.length < this.#chunkSize) {
      let next: IteratorResult<unknown>;
      try {
        next = await this.#source.next();
      } catch (error) {
        this.#exhausted = true;
        this.#inputError = { chunk: this.#nextChunk, error: error as Error };
        if (!this.#ordered) this.#ready.push({ ok: false, error: this.#inputError.error });
        return [];
      }
      if (next.done === true) {
        this.#exhausted = true;
        break;
      }
      items.push(next.value);
    }
    return items;
  }

  #take(): Settled<R> | undefined {
    if (!this.#ordered) return this.#ready.shift();
    const settled = this.#finished.get(this.#nextToYield);
    if (settled !== undefined) {
      this.#finished.delete(this.#nextToYield);
      this.#nextToYield++;
    } else if (this.#inputError !== null && this.#inputError.chunk === this.#nextToYield) {
      return { ok: false, error: this.#inputError.error };
    }
    return settled;
  }
}

/** An iterable or async iterable as an async iterator (a string by its characters). */
export function toAsyncIterator(iterable: Iterable<unknown> | AsyncIterable<unknown>): AsyncIterator<unknown> {
  if (iterable !== null && typeof iterable === 'object') {
    if (Symbol.asyncIterator in iterable) return (iterable as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    if (Symbol.iterator in iterable) {
      const it = (iterable as Iterable<unknown>)[Symbol.iterator]();
      return {
        next: async () => it.next(),
        return: async () => it.return?.() ?? { value: undefined, done: true },
      };
    }
  }
  if (typeof iterable === 'string') return toAsyncIterator([...(iterable as string)]);
  throw new TypeError('The "iterable" argument must be an iterable or an async iterable');
}
