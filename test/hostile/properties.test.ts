// Property tests over every decoder that reads what another process wrote:
// connection frames, forkserver requests, resource-tracker records,
// ShareableList layouts and revive markers. Random and truncated input
// never crashes, never reserves more than the limit, and always ends in a
// value or an error of the kinds the API documents, within a time bound.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as v8 from 'node:v8';

import fc from 'fast-check';

import { advance, encodeRequest, MAX_AUTHKEY_LENGTH, newRequest } from '../../lib/process/forkserver_wire';
import * as mp from '../../lib/index';
import { native } from '../../lib/native';
import { loads } from '../../lib/serialize/reduction';
import { decodeRecords, encodeRecord } from '../../lib/sharedmem/tracker_records';

const RUNS = 300;
const TIME_BOUND_MS = 2000;
const DOCUMENTED = new Set(['EOFError', 'ProcessError', 'SerializationError', 'BufferTooShort', 'RangeError']);

function documentedFailure(error: unknown): boolean {
  return error instanceof Error && DOCUMENTED.has(error.name);
}

/** Runs `work`, which must end within the time bound; returns what it threw, if anything. */
function bounded(work: () => void): unknown {
  const started = Date.now();
  let thrown: unknown;
  try {
    work();
  } catch (error) {
    thrown = error;
  }
  assert.ok(Date.now() - started < TIME_BOUND_MS, `took ${Date.now() - started} ms`);
  return thrown;
}

const MARK = '\u0000mp';

/** A value tree with markers of every kind (and of none) in random places. */
const markedValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.integer(),
    fc.string(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 4 }), tie('value'), { maxKeys: 4 }),
    tie('marker'),
  ),
  marker: fc.record({
    [MARK]: fc.constantFrom('fn', 'obj', 'err', 'red', 'nonsense', 7),
    id: fc.oneof(fc.string(), fc.constantFrom('multiprocessing.Connection', 'multiprocessing.sharedctypes.RawArray', 'multiprocessing.Lock')),
    state: tie('value'),
    props: fc.dictionary(fc.string({ maxLength: 4 }), tie('value'), { maxKeys: 3 }),
    fields: fc.dictionary(fc.string({ maxLength: 4 }), tie('value'), { maxKeys: 3 }),
    ref: fc.oneof(fc.constant(null), fc.record({ module: fc.constant('/nonexistent/module.js'), name: fc.string(), line: fc.integer(), column: fc.integer() })),
  }),
}));

describe('hostile input: property tests of every decoder', function () {
  this.timeout(120000);

  it('connection frames: random and truncated byte streams end in a value or a documented error, within the limit', async () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.boolean(), (bytes, framed) => {
        const [reader, writer] = mp.Pipe(true, { maxMessageSize: 1 << 16 });
        try {
          // Half the runs start with a plausible header, to reach the body decoders.
          const head = Buffer.alloc(4);
          head.writeInt32BE(bytes.length, 0);
          native.writeAll(writer.fileno(), framed ? Buffer.concat([head, bytes]) : Buffer.from(bytes));
          writer.close();
          const before = process.memoryUsage().arrayBuffers;
          for (let i = 0; i < 64; i++) {
            const thrown = bounded(() => reader.recvSync());
            assert.ok(process.memoryUsage().arrayBuffers - before < 8 << 20, 'no more than the limit reserved');
            if (thrown === undefined) continue;
            assert.ok(documentedFailure(thrown), `undocumented failure: ${String(thrown)}`);
            if ((thrown as Error).name === 'EOFError' || /no longer readable|broken/.test((thrown as Error).message)) break;
          }
        } finally {
          reader.close();
          writer.close();
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('forkserver requests: random bytes, split anywhere, are refused or complete; room only after the authkey', () => {
    const key = Buffer.from('k'.repeat(32));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), fc.array(fc.nat(64), { maxLength: 8 }), fc.boolean(), (bytes, cuts, valid) => {
        const input = valid ? encodeRequest(key, Buffer.from(bytes)) : Buffer.from(bytes);
        const request = newRequest(0);
        let at = 0;
        let outcome = 'incomplete' as 'complete' | 'refused' | 'incomplete';
        const pieces = [...cuts, input.length];
        for (const cut of pieces) {
          const end = Math.min(input.length, at + Math.max(1, cut));
          if (at >= end) break;
          // As the server reads: never more than the room the request has made.
          const take = Math.min(end - at, request.bytes.length - request.got);
          input.copy(request.bytes, request.got, at, at + take);
          request.got += take;
          at += take;
          const thrown = bounded(() => {
            const done = advance(request, key);
            if (done !== null) outcome = 'complete';
          });
          if (thrown !== undefined) {
            assert.ok(thrown instanceof Error);
            outcome = 'refused';
            break;
          }
          if (!request.authenticated) assert.ok(request.bytes.length <= 16 << 10 || request.bytes.length <= 8 + MAX_AUTHKEY_LENGTH);
          if (outcome === 'complete') break;
        }
        if (valid && at === input.length) assert.equal(outcome, 'complete');
      }),
      { numRuns: RUNS },
    );
  });

  it('tracker records: random bytes decode to records or a malformed mark, and what encodes decodes back', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1024 }), (bytes) => {
        const thrown = bounded(() => {
          const { records, used } = decodeRecords(Buffer.from(bytes));
          assert.ok(used <= bytes.length);
          for (const record of records) assert.ok(typeof record.name === 'string');
        });
        assert.equal(thrown, undefined);
      }),
      { numRuns: RUNS * 3 },
    );
    fc.assert(
      fc.property(
        fc.constantFrom('REGISTER' as const, 'UNREGISTER' as const),
        fc.constantFrom('shared_memory' as const, 'semaphore' as const),
        fc.string({ minLength: 1, maxLength: 100, unit: 'grapheme' }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s) && Buffer.byteLength(s) <= 255),
        (command, type, name) => {
          const { records } = decodeRecords(encodeRecord(command, name, type));
          assert.deepEqual(records, [{ command, type, name }]);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('ShareableList layouts: a random segment attaches as a list whose items all read, or is refused with RangeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 512 }), (bytes) => {
        const shm = new mp.SharedMemory({ create: true, size: bytes.length });
        try {
          shm.buf.set(bytes);
          const thrown = bounded(() => {
            const list = new mp.ShareableList(null, { name: shm.name });
            try {
              for (let i = 0; i < list.length; i++) {
                try {
                  list.get(i);
                } catch (error) {
                  // An item whose format this package cannot read says so.
                  assert.match((error as Error).message, /format/);
                }
              }
            } finally {
              list.shm.close();
            }
          });
          if (thrown !== undefined) assert.equal((thrown as Error).name, 'RangeError', String(thrown));
        } finally {
          shm.close();
          shm.unlink();
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('revive markers: random marked values end in a value or a SerializationError, trusted or not, load nothing and create nothing', () => {
    const semaphores = (): string[] => fs.readdirSync('/dev/shm').filter((entry) => entry.startsWith('sem.'));
    const before = semaphores();
    fc.assert(
      fc.property(markedValue.value, fc.boolean(), (value, trusted) => {
        const message = Buffer.concat([Buffer.from([1]), v8.serialize(value)]);
        const thrown = bounded(() => loads(message, [], { trusted, ownsFds: true }));
        if (thrown !== undefined) assert.equal((thrown as Error).name, 'SerializationError', String(thrown));
      }),
      { numRuns: RUNS },
    );
    assert.deepEqual(semaphores(), before, 'no semaphore was created by a revived description');
  });
});
