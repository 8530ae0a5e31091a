// Revive trusts nothing in a message, even from a trusted peer: sizes are
// checked against what a descriptor holds, lengths and tags are checked
// before they are used, and every malformed message is a SerializationError
// in bounded time.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as v8 from 'node:v8';

import * as mp from '../../lib/index';
import { native } from '../../lib/native';
import { openDescriptorsTo, withTimeout as boundedWait } from '../support/helpers';

const MARK = '\u0000mp';
const TAG_PLAIN = 0;
const TAG_MARKED = 1;
const TAG_OUT_OF_BAND_PLAIN = 3;
const WAIT_MS = 10000;

/** Descriptors open here on memfd arenas (the package's heap has some for good; other descriptors come and go). */
function arenaFds(): number {
  return openDescriptorsTo((target) => target.startsWith('/memfd:multiprocessing-heap'));
}

function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

function withTimeout<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  return boundedWait(promise, what, ms);
}

function crafted(tag: number, value: unknown): Buffer {
  return Buffer.concat([Buffer.from([tag]), v8.serialize(value)]);
}

/** An out-of-band message: prefix (tag, segment count, body length, segment lengths), body, segments. */
function outOfBand(count: number, bodyLength: number, lengths: number[], rest: Buffer): Buffer {
  const prefix = Buffer.alloc(9 + 8 * lengths.length);
  prefix[0] = TAG_OUT_OF_BAND_PLAIN;
  prefix.writeUInt32BE(count, 1);
  prefix.writeUInt32BE(bodyLength, 5);
  lengths.forEach((length, i) => prefix.writeDoubleBE(length, 9 + 8 * i));
  return Buffer.concat([prefix, rest]);
}

describe('hostile input: revive checks what a message claims', function () {
  this.timeout(60000);

  it('a shared array that claims a larger arena than its descriptor holds is refused, not a SIGBUS', async () => {
    const [reader, writer] = mp.Pipe();
    const small = native.anonymousShared(4096);
    try {
      // What RawArray's reducer sends, with the arena's size a lie.
      const block = { token: 'f'.repeat(16), fd: 0, arenaSize: 1 << 30, offset: 0, size: 1 << 20 };
      const state = { typecode: 'd', length: 1 << 17, block };
      const before = arenaFds();
      for (const lie of [block, { ...block, arenaSize: 4096, offset: 4000, size: 4096 }, { ...block, arenaSize: -1 }, { ...block, offset: Number.NaN }]) {
        const withLie = crafted(TAG_MARKED, { [MARK]: 'red', id: 'multiprocessing.sharedctypes.RawArray', state: { ...state, block: lie } });
        native.sendSome(writer.fileno(), frame(withLie), 0, 4 + withLie.length, [small]);
        await assert.rejects(withTimeout(reader.recv(), 'recv'), { name: 'SerializationError' });
      }
      assert.equal(arenaFds(), before, 'the descriptor that came with each refused message was closed');
    } finally {
      native.closeFd(small);
      reader.close();
      writer.close();
    }
  });

  it('NaN, negative, fractional and impossible out-of-band lengths, unknown tags and markers fail fast with SerializationError', async () => {
    const [reader, writer] = mp.Pipe();
    try {
      const body = v8.serialize('x');
      const messages = [
        outOfBand(1, body.length, [Number.NaN], Buffer.concat([Buffer.alloc(7), body])),
        outOfBand(1, body.length, [-8], Buffer.concat([Buffer.alloc(7), body])),
        outOfBand(1, body.length, [1.5], Buffer.concat([Buffer.alloc(7), body])),
        outOfBand(0xffffffff, body.length, [], body),
        outOfBand(0, 0xffffff00, [], body),
        Buffer.from([0x7f, 1, 2, 3]),
        Buffer.from([TAG_PLAIN, 0xff, 0x0f, 0x99]),
        Buffer.from([2, 0x7b]),
        crafted(TAG_MARKED, { [MARK]: 'nonsense' }),
        crafted(TAG_MARKED, { [MARK]: 'red', id: 'no.such.reducer', state: null }),
      ];
      for (const message of messages) {
        writer.sendBytes(message);
        const started = Date.now();
        await assert.rejects(withTimeout(reader.recv(), 'recv'), { name: 'SerializationError' });
        assert.ok(Date.now() - started < 2000, 'in bounded time');
      }
      // The connection is still in step: a good message after them arrives.
      writer.send({ fine: true });
      assert.deepEqual(await withTimeout(reader.recv(), 'recv'), { fine: true });
    } finally {
      reader.close();
      writer.close();
    }
  });

  it('a lock whose description has no name is refused, and no semaphore is created for it', async () => {
    const [reader, writer] = mp.Pipe();
    const semaphores = (): string[] => fs.readdirSync('/dev/shm').filter((entry) => entry.startsWith('sem.'));
    const before = semaphores();
    try {
      for (const state of [{}, { name: 7, kind: 1, maxvalue: 1 }, { name: '/x', kind: 9, maxvalue: 1 }, null]) {
        for (const id of ['multiprocessing.Lock', 'multiprocessing.Semaphore']) {
          writer.sendBytes(crafted(TAG_MARKED, { [MARK]: 'red', id, state }));
          await assert.rejects(withTimeout(reader.recv(), 'recv'), { name: 'SerializationError' });
        }
      }
      assert.deepEqual(semaphores(), before);
    } finally {
      reader.close();
      writer.close();
    }
  });

  it('a message that names one descriptor twice is refused and owns nothing', async () => {
    const [reader, writer] = mp.Pipe();
    const [a, b] = native.socketPair();
    try {
      const twice = crafted(TAG_MARKED, [
        { [MARK]: 'red', id: 'multiprocessing.Connection', state: { fd: 0, readable: true, writable: true, trusted: true } },
        { [MARK]: 'red', id: 'multiprocessing.Connection', state: { fd: 0, readable: true, writable: true, trusted: true } },
      ]);
      const before = openFds();
      native.sendSome(writer.fileno(), frame(twice), 0, 4 + twice.length, [a]);
      await assert.rejects(withTimeout(reader.recv(), 'recv'), { name: 'SerializationError', message: /claimed twice/ });
      // The first Connection took it; collected, it closes it. No second owner exists.
      assert.ok(openFds() <= before + 1);
    } finally {
      native.closeFd(a);
      native.closeFd(b);
      reader.close();
      writer.close();
    }
  });
});

function frame(body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}
