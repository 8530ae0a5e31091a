// SharedMemory, ShareableList, Value, Array, RawValue, RawArray (ports of
// CPython's test_shared_memory* and test_sharedctypes tests) in one process
// and between processes of every start method, and the resource tracker.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';

import * as mp from '../lib/index';
import * as t from './fixtures/shm_targets';
import { exitCodes, fixture, killActiveChildren, runFixture, startIn, waitUntil } from './support/helpers';

const JOIN_MS = 20000;
const methods: mp.StartMethod[] = ['fork', 'spawn', 'forkserver'];

function shmEntries(): Set<string> {
  return new Set(fs.readdirSync('/dev/shm'));
}

/** Runs fn, and checks that it threw `type` with `pattern` in its message and created nothing in /dev/shm. */
function throwsCreatingNothing(fn: () => unknown, type: Function, pattern: RegExp): void {
  const before = shmEntries();
  assert.throws(fn, (error: Error) => error instanceof type && pattern.test(error.message), `expected ${type.name} matching ${pattern}`);
  assert.deepEqual(shmEntries(), before, 'nothing is left half created');
}

describe('SharedMemory in one process', () => {
  it('creates a segment with a Python-style name, zero-filled, and attaching by name shares the very bytes', () => {
    const shm = new mp.SharedMemory({ create: true, size: 1000 });
    try {
      assert.match(shm.name, /^psm_[0-9a-f]{8}$/);
      assert.equal(shm.size, 1000);
      assert.equal(shm.buf.length, 1000);
      assert.ok(shm.buf.every((byte) => byte === 0));
      assert.ok(fs.existsSync(`/dev/shm/${shm.name}`));
      const other = new mp.SharedMemory({ name: shm.name });
      const slashed = new mp.SharedMemory({ name: `/${shm.name}` });
      assert.equal(other.size, 1000, 'an attached segment has the size it was made with');
      shm.buf.write('written through one mapping');
      assert.equal(other.buf.toString('utf8', 0, 27), 'written through one mapping');
      slashed.buf[999] = 42;
      assert.equal(shm.buf[999], 42);
      assert.equal(slashed.name, shm.name, 'the name is reported without its slash');
      other.close();
      slashed.close();
    } finally {
      shm.close();
      shm.unlink();
    }
    assert.equal(fs.existsSync(`/dev/shm/${shm.name}`), false);
  });

  it('creates under a given name; creating it again is EEXIST and attaching a missing one ENOENT, naming it', () => {
    const name = `psm_test${process.pid}`;
    const shm = new mp.SharedMemory({ name, create: true, size: 64 });
    try {
      assert.equal(shm.name, name);
      throwsCreatingNothing(() => new mp.SharedMemory({ name, create: true, size: 64 }), Error, new RegExp(`EEXIST.*${name}`));
      try {
        new mp.SharedMemory({ name, create: true, size: 64 });
      } catch (error) {
        assert.equal((error as NodeJS.ErrnoException).code, 'EEXIST');
        assert.equal((error as NodeJS.ErrnoException).syscall, 'shm_open');
      }
    } finally {
      shm.close();
      shm.unlink();
    }
    throwsCreatingNothing(() => new mp.SharedMemory({ name }), Error, new RegExp(`ENOENT.*${name}`));
    assert.throws(() => new mp.SharedMemory({ name }), { code: 'ENOENT' });
    assert.throws(() => shm.unlink(), { code: 'ENOENT' }, 'a second unlink finds nothing');
  });

  it('rejects bad input naming the parameter, and leaves nothing behind', () => {
    throwsCreatingNothing(() => new mp.SharedMemory({ create: true, size: 0 }), RangeError, /options\.size/);
    throwsCreatingNothing(() => new mp.SharedMemory({ create: true }), RangeError, /options\.size/);
    throwsCreatingNothing(() => new mp.SharedMemory({ create: true, size: -1 }), RangeError, /options\.size/);
    throwsCreatingNothing(() => new mp.SharedMemory({ create: true, size: 1.5 }), RangeError, /options\.size/);
    throwsCreatingNothing(() => new mp.SharedMemory({ create: true, size: '10' as unknown as number }), TypeError, /options\.size/);
    throwsCreatingNothing(() => new mp.SharedMemory({ name: 'a/b', create: true, size: 10 }), RangeError, /options\.name/);
    throwsCreatingNothing(() => new mp.SharedMemory({ name: '', create: true, size: 10 }), RangeError, /options\.name/);
    throwsCreatingNothing(() => new mp.SharedMemory({ name: 'a\0b', create: true, size: 10 }), RangeError, /options\.name/);
    throwsCreatingNothing(() => new mp.SharedMemory({ name: 7 as unknown as string }), TypeError, /options\.name/);
    throwsCreatingNothing(() => new mp.SharedMemory({}), TypeError, /options\.name/);
    throwsCreatingNothing(() => new mp.SharedMemory({ create: 'yes' as unknown as boolean, size: 1 }), TypeError, /options\.create/);
  });

  it('close() lets go of the segment: earlier views see zeros and reach it no more, buf throws, a second close() does nothing; others keep theirs', () => {
    const shm = new mp.SharedMemory({ create: true, size: 4096 });
    const other = new mp.SharedMemory({ name: shm.name });
    try {
      const view = shm.buf;
      const typed = new Int32Array(shm.buf.buffer, shm.buf.byteOffset, 4);
      typed[1] = 7;
      shm.close();
      assert.equal(typed[1], 0, 'the view no longer shows the segment');
      typed[2] = 9;
      view[0] = 1;
      assert.equal(other.buf.readInt32LE(8), 0, 'writes through an old view do not reach the segment');
      assert.equal(other.buf[0], 0);
      assert.throws(() => shm.buf, /closed/);
      shm.close();
      assert.equal(other.buf.readInt32LE(4), 7, 'the segment itself lives on');
    } finally {
      other.close();
      shm.unlink();
    }
  });
});

describe('ShareableList in one process', () => {
  it("keeps Python's formats and values for every type (CPython's ShareableList basics)", () => {
    const sl = new mp.ShareableList(['howdy', Buffer.from('HoWdY'), -273.154, 100, null, true, 42]);
    try {
      assert.equal(sl.format, '8s8sdqxxxxxx?xxxxxxxx?q');
      assert.equal(sl.length, 7);
      assert.deepEqual(sl.toArray(), ['howdy', Buffer.from('HoWdY'), -273.154, 100, null, true, 42]);
      assert.equal(sl.count('howdy'), 1);
      assert.equal(sl.count(Buffer.from('HoWdY')), 1);
      assert.equal(sl.index(42), 6);
      assert.equal(sl.index(100n), 3, 'an int is an int, number or bigint');
      assert.throws(() => sl.index('not there'), RangeError);
      assert.equal(sl.get(-1), 42);
      sl.set(2, 'hi');
      assert.equal(sl.get(2), 'hi');
      assert.equal(sl.format, '8s8s8sqxxxxxx?xxxxxxxx?q', 'a str stored in a number slot takes its width');
      sl.set(-2, 1.5);
      assert.equal(sl.get(5), 1.5);
      sl.set(0, 'shortr');
      assert.equal(sl.get(0), 'shortr');
      assert.throws(() => sl.set(0, 'this is far too long for the slot'), RangeError);
      assert.equal(sl.get(0), 'shortr', 'a rejected write changes nothing');
      assert.throws(() => sl.get(7), RangeError);
      assert.throws(() => sl.set(-8, 1), RangeError);
      assert.throws(() => sl.set(0, undefined as unknown as null), TypeError);
      assert.deepEqual([...sl].length, 7);
    } finally {
      sl.shm.close();
      sl.shm.unlink();
    }
  });

  it('stores integers as q (bigint beyond the safe range), attaches by name and sees the same list', () => {
    const sl = new mp.ShareableList([2n ** 62n, -1, 2 ** 53 + 0.5, 'héllo wörld', null, false]);
    const attached = new mp.ShareableList(null, { name: sl.shm.name });
    try {
      assert.equal(sl.format.slice(0, 2), 'qq');
      assert.deepEqual(attached.toArray(), [2n ** 62n, -1, 2 ** 53, 'héllo wörld', null, false]);
      attached.set(1, 2n ** 40n);
      assert.equal(sl.get(1), 2 ** 40, 'a safe integer reads back as a number');
      assert.throws(() => new mp.ShareableList([2n ** 63n]), RangeError);
      const empty = new mp.ShareableList();
      assert.equal(empty.length, 0);
      assert.deepEqual(empty.toArray(), []);
      empty.shm.close();
      empty.shm.unlink();
    } finally {
      attached.shm.close();
      sl.shm.close();
      sl.shm.unlink();
    }
  });
});

describe('Value, Array, RawValue, RawArray in one process', () => {
  const samples: Array<[mp.TypeCode, mp.SharedScalar, mp.SharedScalar]> = [
    ['b', -5, 300],
    ['B', 200, 256 + 7],
    ['h', -30000, 1],
    ['H', 60000, 2],
    ['i', -(2 ** 31), 3],
    ['I', 2 ** 32 - 1, 4],
    ['l', -(2n ** 63n), 5n],
    ['L', 2n ** 64n - 1n, 6n],
    ['q', 2n ** 62n, 7n],
    ['Q', 2n ** 63n, 8n],
    ['f', 0.5, 9.25],
    ['d', Math.PI, -1e300],
    ['c', 'x', 'y'],
  ];

  it('every typecode keeps its values, as C would (wrapping like a C cast)', () => {
    for (const [code, first, second] of samples) {
      const v = mp.Value(code, first);
      assert.equal(v.value, first, `Value('${code}')`);
      v.value = second;
      const expected = code === 'b' ? 44 : code === 'B' ? 7 : second;
      assert.equal(v.value, expected, `Value('${code}') after a write`);
      assert.equal(mp.RawValue(code).value, code === 'c' ? '\0' : isBig(code) ? 0n : 0, `RawValue('${code}') starts at zero`);
      const arr = mp.Array(code, [first, second]) as mp.SynchronizedArray;
      assert.deepEqual(arr.toArray(), [first, expected], `Array('${code}')`);
    }
  });

  it('the lock option: an RLock by default, none with false, or the one given', () => {
    const v = mp.Value('i', 1) as mp.SynchronizedValue;
    assert.ok(v.getLock() instanceof mp.RLock);
    const raw = mp.Value('i', 1, { lock: false });
    assert.equal('getLock' in raw, false, 'lock: false has no getLock');
    const lock = new mp.Lock();
    const given = mp.Value('d', 0, { lock }) as mp.SynchronizedValue;
    assert.equal(given.getLock(), lock);
    assert.ok(mp.Array('i', 3, { lock }) instanceof mp.SynchronizedArray);
    assert.ok(mp.Array('i', 3, { lock: false }) instanceof Int32Array);
    assert.throws(() => mp.Value('i', 0, { lock: {} as mp.Lock }), (e: Error) => e instanceof TypeError && /options\.lock/.test(e.message));
  });

  it('withLock() holds the value lock; getObj() is the typed array under it', async () => {
    const v = mp.Value('i', 0) as mp.SynchronizedValue;
    const result = await v.withLock(() => {
      v.value = (v.value as number) + 10; // re-entrant: the RLock is ours already
      return v.value;
    });
    assert.equal(result, 10);
    const obj = v.getObj() as Int32Array;
    obj[0] = 99;
    assert.equal(v.value, 99);
  });

  it('Array: indexes (negative from the end), raw, length, iteration, toArray; out of range throws RangeError', () => {
    const arr = mp.Array('i', 10) as mp.SynchronizedArray;
    assert.equal(arr.length, 10);
    for (let i = 0; i < 10; i++) arr[i] = i * 2;
    assert.equal(arr[-1], 18);
    arr[-2] = 100;
    assert.equal(arr.raw[8], 100);
    assert.deepEqual([...arr], [0, 2, 4, 6, 8, 10, 12, 14, 100, 18]);
    assert.throws(() => arr[10], RangeError);
    assert.throws(() => {
      arr[-11] = 1;
    }, RangeError);
    assert.equal(10 in arr, false);
    assert.equal(9 in arr, true);
    const text = mp.Array('c', 'hello') as mp.SynchronizedArray;
    assert.equal(text.value, 'hello');
    assert.equal(text[1], 'e');
    text.value = 'hi';
    assert.equal(text.value, 'hi');
  });

  it('small objects share arenas instead of one segment each, and nothing appears in /dev/shm', () => {
    const before = shmEntries();
    const values = Array.from({ length: 50 }, (_, i) => mp.Value('d', i, { lock: false }));
    const arenas = new Set(values.map((v) => v.getObj().buffer));
    assert.ok(arenas.size <= 2, `50 values in ${arenas.size} arenas`);
    const raw = mp.RawArray('i', [1, 2, 3]);
    assert.ok(raw instanceof Int32Array);
    assert.deepEqual([...raw], [1, 2, 3]);
    assert.deepEqual(shmEntries(), before);
  });

  it('rejects bad input naming the parameter', () => {
    assert.throws(() => mp.Value('z' as mp.TypeCode), (e: Error) => e instanceof RangeError && /typecode/.test(e.message));
    assert.throws(() => mp.Value(3 as unknown as mp.TypeCode), (e: Error) => e instanceof TypeError && /typecode/.test(e.message));
    assert.throws(() => mp.Array('i', -1), (e: Error) => e instanceof RangeError && /sizeOrInit/.test(e.message));
    assert.throws(() => mp.RawArray('d', 1.5), (e: Error) => e instanceof RangeError && /sizeOrInit/.test(e.message));
    assert.throws(() => mp.Value('q', 'x' as unknown as bigint), (e: Error) => e instanceof TypeError && /init/.test(e.message));
    assert.throws(() => mp.Value('c', 'xy'), (e: Error) => e instanceof TypeError && /init/.test(e.message));
  });
});

function isBig(code: mp.TypeCode): boolean {
  return code === 'l' || code === 'L' || code === 'q' || code === 'Q';
}

for (const method of methods) {
  describe(`shared memory between processes (${method})`, () => {
    const ctx = mp.getContext(method);
    afterEach(() => killActiveChildren(JOIN_MS));
    const run = async (target: (...args: never[]) => unknown, ...args: unknown[]): Promise<number | null> =>
      (await exitCodes([startIn(ctx, target, ...args)], JOIN_MS))[0];

    it('a Value counter under its lock: 2 children and the parent add up exactly', async () => {
      const counter = mp.Value('i', 0) as mp.SynchronizedValue;
      const times = 300;
      const children = [0, 1].map(() => startIn(ctx, t.countInValue, counter, times));
      t.countInValue(counter, times);
      assert.deepEqual(await exitCodes(children, JOIN_MS), [0, 0]);
      assert.equal(counter.value, 3 * times);
    });

    it("Values of every kind are set by the child (CPython's test_value)", async () => {
      const values = [mp.Value('i', 25), mp.Value('d', 1.25), mp.Value('h', -7), mp.Value('q', 2n ** 50n), mp.Value('c', 'x')] as mp.SynchronizedValue[];
      const newValues: mp.SharedScalar[] = [-33, 5.5, 1023, -(2n ** 60n), 'y'];
      assert.equal(await run(t.setValues, values, newValues), 0);
      assert.deepEqual(
        values.map((v) => v.value),
        newValues,
      );
    });

    it("an Array is changed in place by the child (CPython's test_array)", async () => {
      const seq = [681, 626, 934, 821, 150, 233, 548, 982, 714, 831];
      const arr = mp.Array('i', seq) as mp.SynchronizedArray;
      assert.equal(await run(t.prefixSums, arr), 0);
      let sum = 0;
      assert.deepEqual(
        arr.toArray(),
        seq.map((x) => (sum += x)),
      );
    });

    it('RawArray and RawValue cross as shared memory, not copies', async () => {
      const raw = mp.RawArray('i', 6);
      const value = mp.RawValue('d');
      assert.equal(await run(t.writeRaw, raw, value), 0);
      assert.deepEqual([...raw], [0, 1, 4, 9, 16, 25]);
      assert.equal(value.value, 2.5);
    });

    it('a SharedMemory crosses as an argument and by name; a ShareableList as an argument', async () => {
      const shm = new mp.SharedMemory({ create: true, size: 128 });
      const list = new mp.ShareableList([21, 'original text', 'x']);
      try {
        assert.equal(await run(t.writeSegments, shm, shm.name, `from ${method}`), 0);
        assert.equal(shm.buf.toString('utf8', 0, `from ${method}`.length), `from ${method}`);
        assert.equal(shm.buf.toString('utf8', 64, 64 + `from ${method}`.length), `from ${method}`);
        assert.equal(await run(t.editList, list), 0);
        assert.deepEqual(list.toArray(), [42, 'changed', null]);
      } finally {
        shm.close();
        shm.unlink();
        list.shm.close();
        list.shm.unlink();
      }
    });

    it('a Value goes through a Queue to a running child; an Array the child made comes back', async () => {
      const inbox = new ctx.Queue();
      const outbox = new ctx.Queue();
      const child = new ctx.Process({ target: t.valueThroughQueue, args: [inbox, outbox] });
      child.start();
      const value = mp.Value('i', 1) as mp.SynchronizedValue;
      await inbox.put(value);
      const made = (await outbox.get({ timeout: JOIN_MS })) as mp.SynchronizedArray;
      // The child's lock lives while it does (its creator unlinks it at exit): received first, then let go.
      await inbox.put('done');
      await child.join(JOIN_MS);
      assert.equal(child.exitCode, 0);
      assert.equal(value.value, 42);
      assert.deepEqual(made.toArray(), [7, 8, 9]);
      made[0] = 70;
      assert.equal(made.raw[0], 70, 'what the child made is still there after it exited');
    });
  });
}

describe('resource tracker', () => {
  interface Report {
    segments: string[];
    semaphores: string[];
    untracked?: string;
    pids?: number[];
  }
  const present = (name: string): boolean => fs.existsSync(`/dev/shm/${name}`);
  const semaphorePresent = (name: string): boolean => present(`sem.${name.slice(1)}`);

  it('removes what a SIGKILLed tree of fork, spawn and forkserver processes made, within 2 s, and names it', async () => {
    const tree = spawn(process.execPath, [fixture('shm_tree'), 'kill-tree'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    tree.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    tree.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // stderr ends when every process holding it is gone: the tree and, last, the tracker.
    const stderrClosed = new Promise<void>((resolve) => tree.stderr.on('close', resolve));
    const exited = new Promise<void>((resolve) => tree.on('exit', () => resolve()));
    let report: Report | undefined;
    try {
      await waitUntil(() => stdout.includes('\n'), 30000, `the tree's report (stderr: ${stderr})`);
      report = JSON.parse(stdout) as Report;
      assert.equal(report.segments.length, 4);
      assert.equal(report.semaphores.length, 5);
      for (const name of report.segments) assert.ok(present(name), `${name} exists while the tree lives`);
      for (const name of report.semaphores) assert.ok(semaphorePresent(name), `${name} exists while the tree lives`);
    } finally {
      process.kill(-(tree.pid as number), 'SIGKILL');
    }
    const r = report as Report;
    // The whole group died at once by that one kill; its root is the last to be seen dead here.
    await exited;
    await waitUntil(() => r.segments.every((n) => !present(n)) && r.semaphores.every((n) => !semaphorePresent(n)), 2000, 'the tracker to clean up');
    await Promise.race([stderrClosed, new Promise((_, reject) => setTimeout(() => reject(new Error('the tracker did not exit')), 5000))]);
    for (const name of [...r.segments, ...r.semaphores]) assert.ok(stderr.includes(name.startsWith('/') ? name : `/${name}`), `the warning names ${name}:\n${stderr}`);
    assert.match(stderr, /leaked shared_memory objects to clean up/);
    assert.ok(present(r.untracked as string), 'a track: false segment is left alone');
    new mp.SharedMemory({ name: r.untracked as string, track: false }).unlink();
  });

  it('says nothing when everything was unlinked before a normal exit', async () => {
    const result = await runFixture('shm_tree', ['clean-exit']);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as Report;
    assert.equal(result.stderr, '');
    assert.equal(present(report.segments[0]), false);
    assert.equal(semaphorePresent(report.semaphores[0]), false);
  });

  it("removes a segment its creator never unlinked once the tree exits, and warns (Python's behaviour)", async () => {
    const result = await runFixture('shm_tree', ['forgot-unlink']);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as Report;
    // runFixture resolves once stderr closes, that is once the tracker too has exited.
    assert.equal(present(report.segments[0]), false);
    assert.match(result.stderr, new RegExp(`1 leaked shared_memory objects.*/${report.segments[0]}`));
  });
});

