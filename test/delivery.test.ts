// Nothing a child put or sent is lost when it ends (Python's child joins its
// queue feeder at exit): every put() on a Queue, JoinableQueue or
// SimpleQueue and every send() on a Connection that returned before the
// child ended is delivered, however it ended, under every start method.
import * as assert from 'node:assert/strict';

import * as mp from '../lib/index';
import * as t from './fixtures/delivery_targets';
import { killActiveChildren, startIn } from './support/helpers';

const JOIN_MS = 60000;
const GET_MS = 20000;
const methods: mp.StartMethod[] = ['fork', 'spawn', 'forkserver'];

const endings = [
  ['returns', t.returnAfter, 0],
  ['returns from an async target', t.returnAfterAsync, 0],
  ['calls process.exit(0)', t.exitAfter, 0],
  ['calls process.exit(0) from an async target', t.exitAfterAsync, 0],
  ['throws', t.throwAfter, 1],
  ['rejects', t.rejectAfter, 1],
] as const;

const batches = [
  { count: 1, big: false },
  { count: 1, big: true },
  { count: 300, big: false },
  { count: 12, big: true },
];

type Channel = { sink: t.Sink; next(): Promise<unknown>; close(): void };

const channels: Record<string, (ctx: mp.Context) => Channel> = {
  Queue: (ctx) => {
    const q = new ctx.Queue<unknown>();
    return { sink: q, next: () => q.get({ timeout: GET_MS }), close: () => q.close() };
  },
  JoinableQueue: (ctx) => {
    const q = new ctx.JoinableQueue<unknown>();
    return {
      sink: q,
      next: async () => {
        const item = await q.get({ timeout: GET_MS });
        q.taskDone(); // throws if the child's put was not counted with its item
        return item;
      },
      close: () => q.close(),
    };
  },
  SimpleQueue: (ctx) => {
    const q = new ctx.SimpleQueue<unknown>();
    return { sink: q, next: () => q.get({ signal: AbortSignal.timeout(GET_MS) }), close: () => q.close() };
  },
  Connection: (ctx) => {
    const [reader, writer] = ctx.Pipe(false);
    let writerOpen = true;
    return {
      sink: writer,
      next: async () => {
        if (writerOpen) {
          writer.close(); // the child's copy is the only writer: EOF shows a lost message
          writerOpen = false;
        }
        if (!(await reader.poll(GET_MS))) throw new Error('nothing arrived in time');
        return reader.recv();
      },
      close: () => reader.close(),
    };
  },
};

for (const method of methods) {
  describe(`nothing a child put or sent is lost when it ends (${method})`, function () {
    this.timeout(JOIN_MS * 2);
    const ctx = mp.getContext(method);
    afterEach(() => killActiveChildren(JOIN_MS));

    for (const [ending, target, exitCode] of endings) {
      it(`a child that ${ending} right after its puts and sends`, async () => {
        for (const [kind, open] of Object.entries(channels)) {
          for (const { count, big } of batches) {
            const what = `${kind}, ${count} ${big ? 'big' : 'small'} item(s)`;
            const channel = open(ctx);
            const child = startIn(ctx, target, channel.sink, count, big);
            try {
              for (let i = 0; i < count; i++) {
                const item = (await channel.next()) as t.Item;
                assert.equal(item.i, i, `${what}: in put order`);
                assert.equal(item.pad.length, big ? t.BIG_BYTES : 0, what);
              }
            } finally {
              channel.close();
            }
            await child.join(JOIN_MS);
            assert.equal(child.exitCode, exitCode, what);
          }
        }
      });
    }
  });
}
