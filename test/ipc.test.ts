// Pipe, Connection, Listener/Client, wait(), Queue, JoinableQueue and
// SimpleQueue between processes of every start method (docs/API.md sections 3
// and 4; ports of CPython's _test_multiprocessing connection and queue
// tests), and their rules in one process.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as mp from '../lib/index';
import * as t from './fixtures/ipc_targets';
import { exitCodes, killActiveChildren, startIn, waitUntil } from './support/helpers';

const JOIN_MS = 60000;
const WAIT_MS = 20000;
const BIG = 256 << 20;
const methods: mp.StartMethod[] = ['fork', 'spawn', 'forkserver'];

for (const method of methods) {
  describe(`pipes and queues between processes (${method})`, () => {
    const ctx = mp.getContext(method);
    afterEach(() => killActiveChildren(JOIN_MS));

    const start = (target: (...args: never[]) => unknown, ...args: unknown[]): mp.Process => startIn(ctx, target, ...args);
    const joined = (...children: mp.Process[]): Promise<Array<number | null>> => exitCodes(children, JOIN_MS);

    it('ping-pong: every kind of value comes back whole and in order, async and sync', async () => {
      const [here, there] = ctx.Pipe();
      const child = start(t.echo, there);
      there.close();
      const values: unknown[] = [1, 'two', [3, { four: 4 }], 5n, new Map([['six', 6]]), new Set([7]), Buffer.from('eight'), new Date(9), -0, NaN, undefined, { nested: { deep: [null] } }];
      for (let round = 0; round < 50; round++) {
        for (const value of values) {
          here.send(value);
          assert.deepEqual(await here.recv(), value);
        }
      }
      for (let i = 0; i < 200; i++) here.send(i);
      for (let i = 0; i < 200; i++) assert.equal(here.recvSync(), i);
      here.send(null);
      assert.deepEqual(await joined(child), [0]);
      await assert.rejects(here.recv(), mp.EOFError);
      here.close();
    });

    it('a 256 MiB message arrives whole through a Pipe (send and sendBytes) and through a Queue', async function () {
      this.timeout(120000);
      const [reader, writer] = ctx.Pipe(false);
      let child = start(t.sendBig, writer, BIG, 11, true);
      writer.close();
      assert.ok(t.checkBigBuffer(await reader.recvBytes(), BIG, 11));
      assert.deepEqual(await joined(child), [0]);
      const [reader2, writer2] = ctx.Pipe(false);
      child = start(t.sendBig, writer2, BIG, 12, false);
      writer2.close();
      const message = (await reader2.recv()) as { seed: number; buffer: Buffer };
      assert.equal(message.seed, 12);
      assert.ok(t.checkBigBuffer(message.buffer, BIG, 12));
      assert.deepEqual(await joined(child), [0]);
      reader.close();
      reader2.close();
      const queue = new ctx.Queue<{ seed: number; buffer: Buffer }>();
      child = start(t.putBig, queue, BIG, 13);
      const item = await queue.get({ timeout: WAIT_MS * 3 });
      assert.ok(t.checkBigBuffer(item.buffer, BIG, 13));
      assert.deepEqual(await joined(child), [0]);
      queue.close();
    });

    it('recv() rejects with EOFError once the peer has exited, after its last message', async () => {
      const [here, there] = ctx.Pipe();
      const child = start(t.sendThenExit, there, 'last words');
      there.close();
      assert.deepEqual(await joined(child), [0]);
      assert.equal(await here.recv(), 'last words');
      await assert.rejects(here.recv(), mp.EOFError);
      assert.throws(() => here.recvSync(), mp.EOFError);
      assert.equal(here.pollSync(), true, 'end-of-file counts as readable');
      here.close();
    });

    it('wait() and poll() see which of several connections and sentinels are ready', async () => {
      const go = [new ctx.Event(), new ctx.Event()];
      const pipes = [ctx.Pipe(false), ctx.Pipe(false)];
      const children = pipes.map(([, w], i) => start(t.sendWhenSet, w, go[i], `from ${i}`));
      for (const [, w] of pipes) w.close();
      const readers = pipes.map(([r]) => r);
      assert.deepEqual(await mp.wait(readers, 50), []);
      assert.equal(await readers[0].poll(20), false);
      go[1].set();
      assert.deepEqual(await mp.wait([...readers], WAIT_MS), [readers[1]]);
      assert.equal(await readers[1].recv(), 'from 1');
      await joined(children[1]);
      const sentinel = children[1].sentinel as number;
      assert.deepEqual(await mp.wait([readers[0], sentinel], WAIT_MS), [sentinel], 'the ended child');
      go[0].set();
      assert.equal(await readers[0].poll(WAIT_MS), true);
      assert.equal(await readers[0].recv(), 'from 0');
      assert.deepEqual(await joined(...children), [0, 0]);
      for (const r of readers) r.close();
    });

    it('a Connection crosses through a Queue and through another Connection', async () => {
      const queue = new ctx.Queue<mp.Connection>();
      const [mine, theirs] = ctx.Pipe();
      const child = start(t.answerOnReceivedConnection, queue);
      await queue.put(theirs);
      assert.match(String(await mine.recv()), /^answer from \d+$/);
      const [carrierHere, carrierThere] = ctx.Pipe();
      const [mine2, theirs2] = ctx.Pipe();
      const child2 = start(t.answerOnPassedConnection, carrierThere);
      carrierHere.send(theirs2);
      theirs2.close(); // the child holds its own copy of the descriptor
      mine2.send('through the carrier');
      assert.equal(await mine2.recv(), 'through the carrier');
      assert.deepEqual(await joined(child, child2), [0, 0]);
      for (const c of [mine, theirs, carrierHere, carrierThere, mine2]) c.close();
      queue.close();
    });

    it('Listener and Client over AF_UNIX and AF_INET: the right authkey connects, a wrong one fails on both sides', async () => {
      const unixPath = path.join(os.tmpdir(), `mp-test-listener-${process.pid}-${method}`);
      for (const address of [unixPath, ['127.0.0.1', 0]] as mp.connection.Address[]) {
        const listener = new mp.connection.Listener(address, { authkey: 'right key' });
        const good = start(t.connectAndSend, listener.address, 'right key', 'hello');
        const conn = await listener.accept();
        assert.equal(await conn.recv(), 'hello');
        conn.send('echo');
        assert.equal(await conn.recv(), 'echo');
        assert.deepEqual(await joined(good), [0]);
        conn.close();
        const bad = start(t.connectAndSend, listener.address, 'wrong key', 'must not arrive');
        await assert.rejects(listener.accept(), mp.AuthenticationError);
        assert.deepEqual(await joined(bad), [3], 'the client failed with AuthenticationError too');
        listener.close();
      }
      assert.equal(fs.existsSync(unixPath), false, 'close() removed the socket file');
    });

    it('Queue: 4 producers x 4 consumers x 20,000 items, each delivered exactly once, per-producer order kept', async function () {
      this.timeout(120000);
      const producers = 4;
      const consumers = 4;
      const count = 20000;
      const queue = new ctx.Queue<[number, number] | null>();
      const results = new ctx.Queue<Array<[number, number]>>();
      const consuming = Array.from({ length: consumers }, () => start(t.consume, queue, results));
      const producing = Array.from({ length: producers }, (_, i) => start(t.produce, queue, i, count));
      assert.deepEqual(await joined(...producing), [0, 0, 0, 0]);
      for (let i = 0; i < consumers; i++) await queue.put(null);
      const seen = Array.from({ length: producers }, () => new Uint8Array(count));
      let total = 0;
      for (let i = 0; i < consumers; i++) {
        const taken = await results.get({ timeout: JOIN_MS });
        const last = new Array<number>(producers).fill(-1);
        for (const [producer, seq] of taken) {
          assert.ok(seq > last[producer], `producer ${producer}'s items out of order in one consumer`);
          last[producer] = seq;
          assert.equal(seen[producer][seq], 0, `item ${producer}/${seq} delivered twice`);
          seen[producer][seq] = 1;
          total++;
        }
      }
      assert.equal(total, producers * count, 'items lost');
      assert.deepEqual(await joined(...consuming), [0, 0, 0, 0]);
      queue.close();
      results.close();
    });

    it('Queue: a consumer killed while blocked in get() does not stop the others from getting every item', async () => {
      const queue = new ctx.Queue<number | null>();
      const results = new ctx.Queue<number[]>();
      const waiting = new ctx.Semaphore(0);
      const victim = start(t.blockInGet, queue, waiting);
      const survivors = [start(t.getCount, queue, results, waiting), start(t.getCount, queue, results, waiting)];
      for (let i = 0; i < 3; i++) assert.equal(await waiting.acquire({ timeout: WAIT_MS }), true);
      await waitUntil(() => queue.empty(), WAIT_MS, 'the queue to be empty');
      victim.kill();
      await victim.join(JOIN_MS);
      assert.equal(victim.exitCode, -9);
      const count = 2000;
      for (let i = 0; i < count; i++) await queue.put(i);
      await queue.put(null);
      await queue.put(null);
      const got = [...(await results.get({ timeout: JOIN_MS })), ...(await results.get({ timeout: JOIN_MS }))].sort((a, b) => a - b);
      assert.deepEqual(got, Array.from({ length: count }, (_, i) => i));
      assert.deepEqual(await joined(...survivors), [0, 0]);
      queue.close();
      results.close();
    });

    it('Queue: maxsize blocks and throws Full; a get() frees a slot', async () => {
      const queue = new ctx.Queue<number>(2);
      await queue.put(1);
      queue.putNowait(2);
      assert.equal(queue.full(), true);
      assert.equal(queue.qsize(), 2);
      assert.throws(() => queue.putNowait(3), mp.Full);
      await assert.rejects(queue.put(3, { block: false }), mp.Full);
      await assert.rejects(queue.put(3, { timeout: 30 }), mp.Full);
      const blocked = queue.put(3);
      const child = start(t.takeOne, queue);
      await blocked;
      assert.deepEqual(await joined(child), [0]);
      assert.equal(queue.qsize(), 2);
      assert.deepEqual([await queue.get(), await queue.get()].sort(), [2, 3]);
      assert.equal(queue.empty(), true);
      queue.close();
    });

    it('Queue: what a producer put arrives though it exits right away, with or without joinThread()', async () => {
      for (const joinThread of [true, false]) {
        const queue = new ctx.Queue<number>();
        const child = start(t.putManyAndExit, queue, 3000, joinThread);
        assert.deepEqual(await joined(child), [0]);
        for (let i = 0; i < 3000; i++) assert.equal(await queue.get({ timeout: WAIT_MS }), i);
        assert.throws(() => queue.getNowait(), mp.Empty);
        queue.close();
      }
    });

    it('JoinableQueue: join() resolves once every item is marked done', async () => {
      const queue = new ctx.JoinableQueue<number | null>();
      const done = new ctx.Semaphore(0);
      const workers = [start(t.work, queue, done), start(t.work, queue, done)];
      for (let i = 0; i < 100; i++) await queue.put(i);
      await queue.join();
      assert.equal(done.getValue(), 100);
      await queue.put(null);
      await queue.put(null);
      await queue.join();
      assert.deepEqual(await joined(...workers), [0, 0]);
      assert.throws(() => queue.taskDone(), { name: 'ProcessError', message: /too many times/ });
      queue.close();
    });

    it('SimpleQueue: items from a child arrive in order', async () => {
      const queue = new ctx.SimpleQueue<unknown>();
      const items = [1, 'two', { three: 3 }, [4n]];
      const child = start(t.simplePut, queue, items);
      for (const item of items) assert.deepEqual(await queue.get(), item);
      assert.deepEqual(await joined(child), [0]);
      assert.equal(queue.empty(), true);
      queue.close();
    });
  });
}

describe('pipes and queues in one process', () => {
  it('recv() of bytes that sendBytes() sent fails with a SerializationError that points at recvBytes()', async () => {
    const [a, b] = mp.Pipe();
    try {
      a.sendBytes(Buffer.from('raw bytes'));
      await assert.rejects(b.recv(), { name: 'SerializationError', message: /sendBytes\(\) are read with recvBytes\(\)/ });
    } finally {
      a.close();
      b.close();
    }
  });

  it('recvBytesInto() fills a buffer; a message that does not fit is BufferTooShort carrying it', async () => {
    const [a, b] = mp.Pipe();
    a.sendBytes(new Uint8Array([1, 2, 3, 4, 5]), 1, 3);
    const into = Buffer.alloc(8);
    assert.equal(await b.recvBytesInto(into, 2), 3);
    assert.deepEqual([...into.subarray(2, 5)], [2, 3, 4]);
    a.sendBytes(Buffer.alloc(10, 7));
    await assert.rejects(b.recvBytesInto(Buffer.alloc(4)), (e: Error & { received?: Buffer }) => {
      assert.equal(e.name, 'BufferTooShort');
      assert.equal(e.received?.length, 10);
      return true;
    });
    a.sendBytes(Buffer.alloc(300));
    await assert.rejects(b.recvBytes(256), { name: 'BufferTooShort' });
    await assert.rejects(b.recvBytes(), { name: 'ProcessError', message: /no longer readable/ });
    a.close();
    b.close();
  });

  it('a one-way Pipe refuses the wrong direction; a closed connection refuses everything', async () => {
    const [reader, writer] = mp.Pipe(false);
    assert.equal(reader.writable, false);
    assert.equal(writer.readable, false);
    assert.throws(() => reader.send(1), { name: 'ProcessError', message: /read-only/ });
    await assert.rejects(writer.recv(), { name: 'ProcessError', message: /write-only/ });
    writer.send('x');
    assert.equal(reader.recvSync(), 'x');
    reader.close();
    assert.equal(reader.closed, true);
    assert.throws(() => reader.fileno(), mp.ProcessError);
    await assert.rejects(reader.recv(), mp.ProcessError);
    reader.close(); // twice is fine
    writer.close();
  });

  it('bad input throws TypeError or RangeError naming the parameter', async () => {
    assert.throws(() => mp.Pipe('yes' as unknown as boolean), { name: 'TypeError', message: /"duplex"/ });
    const [a, b] = mp.Pipe();
    assert.throws(() => a.sendBytes('text' as unknown as Buffer), { name: 'TypeError', message: /"buf"/ });
    assert.throws(() => a.sendBytes(Buffer.alloc(4), 5), { name: 'RangeError', message: /"offset"/ });
    assert.throws(() => a.sendBytes(Buffer.alloc(4), 1, 4), { name: 'RangeError', message: /"size"/ });
    await assert.rejects(b.recvBytes(-1), { name: 'RangeError', message: /"maxLength"/ });
    assert.throws(() => a.send(() => 1), { name: 'SerializationError' });
    assert.throws(() => new mp.Queue(-1), { name: 'RangeError', message: /"maxsize"/ });
    assert.throws(() => new mp.connection.Listener(['127.0.0.1', 0], { family: 'AF_UNIX' }), { name: 'TypeError', message: /"address"/ });
    assert.throws(() => new mp.connection.Listener(['127.0.0.1', 70000]), { name: 'RangeError', message: /port/ });
    await assert.rejects(mp.wait([{} as mp.Connection]), { name: 'TypeError', message: /"objects\[0\]"/ });
    a.close();
    b.close();
  });

  it("Python's multiprocessing Client authenticates against our Listener and exchanges bytes", async () => {
    const { execFile } = await import('node:child_process');
    const listener = new mp.connection.Listener(['127.0.0.1', 0], { authkey: 'shared key' });
    const [, port] = listener.address as [string, number];
    const script = [
      'from multiprocessing.connection import Client',
      `c = Client(('127.0.0.1', ${port}), authkey=b'shared key')`,
      "c.send_bytes(b'from python')",
      'print(c.recv_bytes().decode())',
      'c.close()',
    ].join('\n');
    const python = new Promise<string>((resolve, reject) => {
      execFile('python3', ['-c', script], { timeout: WAIT_MS }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)));
    });
    const conn = await listener.accept();
    assert.equal((await conn.recvBytes()).toString(), 'from python');
    conn.sendBytes(Buffer.from('from node'));
    assert.equal((await python).trim(), 'from node');
    conn.close();
    listener.close();
  });

  it('a closed queue refuses put() and get() with ProcessError; get() times out with Empty', async () => {
    const queue = new mp.Queue<number>();
    await assert.rejects(queue.get({ timeout: 20 }), mp.Empty);
    assert.throws(() => queue.getSync({ timeout: 20 }), mp.Empty);
    await assert.rejects(queue.get({ block: false }), mp.Empty);
    const controller = new AbortController();
    const pending = queue.get({ signal: controller.signal });
    controller.abort(new Error('enough'));
    await assert.rejects(pending, /enough/);
    queue.close();
    await assert.rejects(queue.put(1), { name: 'ProcessError', message: /closed/ });
    await assert.rejects(queue.get(), { name: 'ProcessError', message: /closed/ });
    await queue.joinThread();
  });

  it('send() of more than the socket holds returns at once and is delivered in order', async () => {
    const [a, b] = mp.Pipe();
    const chunk = Buffer.alloc(1 << 20, 1);
    for (let i = 0; i < 8; i++) a.send({ i, chunk });
    for (let i = 0; i < 8; i++) {
      const got = (await b.recv()) as { i: number; chunk: Buffer };
      assert.equal(got.i, i);
      assert.equal(got.chunk.length, chunk.length);
    }
    a.close();
    b.close();
  });
});
