// The shared-memory carrier of Pipe and Queue (lib/connection/ring.ts):
// order across the ring and the socket, consumers and producers killed at
// random points, many waits in one process, and a descriptor handed to
// Python after fileno().
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

import * as mp from '../lib/index';
import * as t from './fixtures/ring_targets';
import { exitCodes, killActiveChildren, startIn, waitUntil, withTimeout } from './support/helpers';

const JOIN_MS = 60000;
const WAIT_MS = 20000;
const methods: mp.StartMethod[] = ['fork', 'spawn', 'forkserver'];

/** A small deterministic generator: the same "random" points on every run of a seed. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

/** Collects what a reporting child sends until 'done' or end-of-file. */
async function collect(conn: mp.Connection, into: number[]): Promise<boolean> {
  for (;;) {
    let value: unknown;
    try {
      value = await conn.recv();
    } catch (error) {
      if (error instanceof mp.EOFError) return false;
      throw error;
    }
    if (value === 'done') return true;
    into.push(value as number);
  }
}

for (const method of methods) {
  describe(`message rings (${method})`, () => {
    const ctx = mp.getContext(method);
    afterEach(() => killActiveChildren(JOIN_MS));
    const start = (target: (...args: never[]) => unknown, ...args: unknown[]): mp.Process => startIn(ctx, target, ...args);

    it('small, big and descriptor-carrying items arrive in order through a Queue and a Pipe', async () => {
      const queue = new ctx.Queue();
      const [reader, writer] = ctx.Pipe(false);
      const [carrierHere, carrierThere] = ctx.Pipe();
      const count = 200;
      // Two children: one process's exit writes its channels one after the other.
      const children = [start(t.putMixed, queue, carrierThere, count), start(t.sendMixed, writer, carrierThere, count)];
      writer.close();
      for (let i = 0; i < count; i++) {
        for (const [what, received] of [
          ['queue', await withTimeout(queue.get(), 'get', WAIT_MS)],
          ['pipe', await withTimeout(reader.recv(), 'recv', WAIT_MS)],
        ] as const) {
          const item = received as { i: number; big?: Buffer; conn?: mp.Connection; text?: string };
          assert.equal(item.i, i, `${what}: item ${i} in its place`);
          if (i % 7 === 3) {
            assert.equal(item.big?.length, t.BIG_BYTES);
            assert.ok(item.big?.every((byte) => byte === (i & 0xff)), `${what}: big item ${i} whole`);
          } else if (i % 11 === 5) {
            assert.ok(item.conn instanceof mp.Connection, `${what}: item ${i} carries a connection`);
            item.conn.send(`through ${what} ${i}`);
            assert.equal(await withTimeout(carrierHere.recv(), 'recv', WAIT_MS), `through ${what} ${i}`);
            item.conn.close();
          } else {
            assert.equal(item.text, `item ${i}`);
          }
        }
      }
      assert.deepEqual(await exitCodes(children, JOIN_MS), [0, 0]);
      for (const c of [reader, carrierHere, carrierThere]) c.close();
      queue.close();
    });

    it('a consumer SIGKILLed at random points of 1,000 gets loses nothing it did not take; the others get the rest', async function () {
      this.timeout(120000);
      const random = lcg(method.length * 7919);
      const rounds = method === 'fork' ? 4 : 2;
      for (let round = 0; round < rounds; round++) {
        const queue = new ctx.Queue<number>();
        const total = 1000;
        const reports = Array.from({ length: 3 }, () => ctx.Pipe(false));
        const got = reports.map((): number[] => []);
        const consumers = reports.map(([, w]) => start(t.consumeAndReport, queue, w, 1500));
        for (const [, w] of reports) w.close();
        const killAfter = 1 + Math.floor(random() * 300);
        const victim = consumers[0];
        const collecting = reports.map(([r], k) => collect(r, got[k]));
        for (let i = 0; i < total; i++) await queue.put(i);
        await waitUntil(() => got[0].length >= killAfter || got.flat().length >= total - 1, WAIT_MS, 'the victim to take items');
        victim.kill();
        const finished = await Promise.all(collecting);
        assert.deepEqual(finished.slice(1), [true, true], 'the other consumers finish');
        const all = got.flat();
        assert.equal(new Set(all).size, all.length, 'no item delivered twice');
        const missing = total - all.length;
        assert.ok(missing <= 1, `at most the item the victim had in hand is missing; ${missing} are`);
        const codes = await exitCodes(consumers, JOIN_MS);
        assert.deepEqual(codes.slice(1), [0, 0]);
        for (const [r] of reports) r.close();
        queue.close();
      }
    });

    it('a producer SIGKILLed mid-put leaves a prefix of its items, stops no other producer, and the queue goes on', async function () {
      this.timeout(120000);
      const queue = new ctx.Queue<[number, number]>();
      const per = 20000;
      const victim = start(t.produceRange, queue, 1, 0, 10 * per);
      const survivor = start(t.produceRange, queue, 2, 0, per);
      const seen = new Map<number, number[]>([
        [1, []],
        [2, []],
      ]);
      let killed = false;
      // Killed while the survivor is still putting: after 2,000 of its own items, or once the
      // survivor is half done (on a loaded machine the survivor may run far ahead).
      while (seen.get(2)!.length < per || !killed) {
        const [id, i] = await withTimeout(queue.get(), 'get', WAIT_MS);
        seen.get(id)!.push(i);
        const victims = seen.get(1)!.length;
        if (!killed && (victims >= 2000 || (victims >= 1 && seen.get(2)!.length >= per / 2))) {
          victim.kill();
          killed = true;
        }
      }
      assert.ok(killed, 'the victim was killed mid-stream');
      // What the victim had handed on before it died may still be in the queue.
      for (;;) {
        try {
          const [id, i] = queue.getNowait();
          seen.get(id)!.push(i);
        } catch (error) {
          if (error instanceof mp.Empty) break;
          throw error;
        }
      }
      assert.deepEqual(seen.get(2), Array.from({ length: per }, (_, i) => i), 'every item of the survivor, in order');
      const ofVictim = seen.get(1)!;
      assert.deepEqual(ofVictim, Array.from({ length: ofVictim.length }, (_, i) => i), 'a prefix of the victim, in order, whole');
      assert.deepEqual(await exitCodes([survivor], JOIN_MS), [0]);
      await queue.put([3, 0]);
      assert.deepEqual(await withTimeout(queue.get(), 'get', WAIT_MS), [3, 0], 'the queue still carries items');
      queue.close();
    });

    it('300 concurrent get()s in one process each take one item, here and in a child', async () => {
      const count = 300;
      const queue = new ctx.Queue<number>();
      const waits = Array.from({ length: count }, () => queue.get({ timeout: WAIT_MS }));
      const [reader, writer] = ctx.Pipe(false);
      const child = start(t.manyGets, queue, writer, count);
      writer.close();
      for (let i = 0; i < 2 * count; i++) await queue.put(i);
      const here = await Promise.all(waits);
      const there = (await withTimeout(reader.recv(), 'recv', WAIT_MS)) as number[];
      const all = [...here, ...there].sort((a, b) => a - b);
      assert.deepEqual(all, Array.from({ length: 2 * count }, (_, i) => i));
      assert.deepEqual(await exitCodes([child], JOIN_MS), [0]);
      reader.close();
      queue.close();
    });

    it('poll(), pollSync() and wait() say false once the only message is taken (a doorbell is no message)', async () => {
      const [here, there] = ctx.Pipe();
      const child = start(t.echoLate, there);
      there.close();
      for (let i = 0; i < 20; i++) {
        here.send(i);
        assert.equal(await withTimeout(here.recv(), 'recv', WAIT_MS), i);
        assert.equal(await here.poll(0), false, `poll(0) after reply ${i}`);
        assert.equal(here.pollSync(0), false, `pollSync(0) after reply ${i}`);
        assert.deepEqual(await mp.wait([here], 0), [], `wait(0) after reply ${i}`);
      }
      assert.equal(await here.poll(20), false, 'poll(20) times out');
      here.send(null);
      assert.deepEqual(await exitCodes([child], JOIN_MS), [0]);
      assert.equal(await here.poll(WAIT_MS), true, 'end-of-file is readable');
      here.close();
    });

    it('a child that sends and puts 2,000 items without awaiting and calls process.exit() loses none', async () => {
      const count = 2000;
      const queue = new ctx.Queue<number>();
      const [reader, writer] = ctx.Pipe(false);
      const child = start(t.sendThenExit, writer, queue, count);
      writer.close();
      for (let i = 0; i < count; i++) assert.equal(await withTimeout(reader.recv(), 'recv', WAIT_MS), i);
      for (let i = 0; i < count; i++) assert.equal(await withTimeout(queue.get(), 'get', WAIT_MS), i);
      await assert.rejects(reader.recv(), mp.EOFError);
      assert.deepEqual(await exitCodes([child], JOIN_MS), [0]);
      reader.close();
      queue.close();
    });
  });
}

describe('message rings and descriptors handed out', () => {
  it("after fileno(), Python's Connection on the descriptor reads what we send and we read what it sends", async () => {
    const [ours, theirs] = mp.Pipe();
    ours.send('before'); // through the ring: read below, before anything the socket brings
    const fd = theirs.fileno();
    const script = [
      'from multiprocessing.connection import Connection',
      'c = Connection(3)',
      'c.send_bytes(c.recv_bytes()[::-1])',
      'c.send_bytes(b"from python")',
    ].join('\n');
    assert.equal(await theirs.recv(), 'before');
    ours.sendBytes(Buffer.from('olleh'));
    const python = spawn('python3', ['-c', script], { stdio: ['ignore', 'inherit', 'inherit', fd] });
    const exited = new Promise<number | null>((resolve) => python.on('exit', resolve));
    assert.equal((await withTimeout(ours.recvBytes(), 'recvBytes', WAIT_MS)).toString(), 'hello');
    assert.equal((await withTimeout(ours.recvBytes(), 'recvBytes', WAIT_MS)).toString(), 'from python');
    assert.equal(await withTimeout(exited, 'python', WAIT_MS), 0);
    theirs.close();
    ours.close();
  });
});
