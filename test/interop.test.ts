// Interoperability with programs that are not this package: CPython's own
// multiprocessing.shared_memory (SharedMemory and ShareableList, both ways)
// and a C program that opens our segment with shm_open(name) and our Lock
// with sem_open(name, 0), counting beside Node processes of every start
// method. Needs python3 and a C compiler (cc); a missing one fails the tests
// with a message saying so.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import * as mp from '../lib/index';
import * as t from './fixtures/interop_targets';
import { killActiveChildren, tempDir } from './support/helpers';

const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures');
const PYTHON_SCRIPT = path.join(FIXTURES, 'interop_shm.py');
const COUNTER_SOURCE = path.join(FIXTURES, 'interop_counter.c');
const RUN_MS = 30000;
const JOIN_MS = 30000;
const WAIT_MS = 10000;
const methods: mp.StartMethod[] = ['fork', 'spawn', 'forkserver'];

function segmentExists(name: string): boolean {
  return fs.existsSync(path.join('/dev/shm', name));
}

// ---------------------------------------------------------------------------
// Python's side: test/fixtures/interop_shm.py, one JSON object per run.

/** A ShareableList item as it crosses to and from Python, so int/float/bool/str/bytes/None stay apart. */
type Tagged = ['int', string] | ['float', number] | ['bool', boolean] | ['str', string] | ['bytes', string] | ['none', null];

function tag(value: mp.ShareableValue): Tagged {
  if (value === null) return ['none', null];
  if (typeof value === 'boolean') return ['bool', value];
  if (typeof value === 'bigint') return ['int', value.toString()];
  if (typeof value === 'number') return Number.isInteger(value) ? ['int', String(value)] : ['float', value];
  if (typeof value === 'string') return ['str', value];
  return ['bytes', value.toString('hex')];
}

function untag([kind, value]: Tagged): mp.ShareableValue {
  switch (kind) {
    case 'none':
      return null;
    case 'int': {
      const n = BigInt(value);
      return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
    }
    case 'bytes':
      return Buffer.from(value, 'hex');
    default:
      return value;
  }
}

function python<T>(command: string, ...args: string[]): T {
  const result = spawnSync('python3', [PYTHON_SCRIPT, command, ...args], { encoding: 'utf8', timeout: RUN_MS });
  if (result.error) {
    const hint = (result.error as NodeJS.ErrnoException).code === 'ENOENT' ? ' (python3 is needed for the interop tests)' : '';
    throw new Error(`python3 ${command}: ${result.error.message}${hint}`);
  }
  if (result.status !== 0) {
    throw new Error(`python3 ${command} ${args.join(' ')} ended with ${result.status ?? result.signal}\n${result.stderr}`);
  }
  // Python's resource tracker shares stderr and is waited for with it: a
  // "leaked shared_memory objects" warning would show here.
  assert.equal(result.stderr, '', `python3 ${command} wrote to stderr`);
  return JSON.parse(result.stdout) as T;
}

// ---------------------------------------------------------------------------

describe('interoperability with Python and C', () => {
  /** Segments a test made or attached to: removed if a failing test left them. */
  const names: string[] = [];
  const programs = new Set<ChildProcess>();

  afterEach(async () => {
    for (const program of programs) program.kill('SIGKILL');
    programs.clear();
    await killActiveChildren(JOIN_MS);
    // Each test checks its segments are gone; this only tidies after a failure.
    for (const name of names.splice(0)) fs.rmSync(path.join('/dev/shm', name), { force: true });
  });

  /** Runs `file args…`, resolving with its exit; SIGKILLed after RUN_MS. */
  function run(file: string, args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      programs.add(child);
      let stdout = '';
      let stderr = '';
      child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), RUN_MS);
      child.on('error', (error) => {
        clearTimeout(timer);
        resolve({ code: null, signal: null, stdout, stderr: String(error) });
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        programs.delete(child);
        resolve({ code, signal, stdout, stderr });
      });
    });
  }

  describe('SharedMemory with CPython', () => {
    it('Python attaches by name to a segment made here, reads our bytes, and its writes show here; the segment outlives Python', () => {
      const shm = new mp.SharedMemory({ create: true, size: 100 });
      names.push(shm.name);
      assert.match(shm.name, /^psm_[0-9a-f]{8}$/);
      const ours = Buffer.from([...Buffer.from('made in node'), 0x00, 0xff, 0x80]);
      ours.copy(shm.buf);
      const theirs = Buffer.from('Python was here ✓');

      const out = python<{ name: string; size: number; seen: string; matched: boolean }>('shm-edit', shm.name, ours.toString('hex'), theirs.toString('hex'));
      assert.equal(out.seen, ours.toString('hex'), 'Python read our bytes');
      assert.equal(out.matched, true);
      assert.equal(out.name, shm.name);
      assert.equal(out.size, 100, "Python's size is ours");
      assert.deepEqual(shm.buf.subarray(0, theirs.length), theirs, "Python's writes show in our mapping");
      assert.equal(segmentExists(shm.name), true, "Python's exit removed the segment");

      // A second Python attaches to it again and sees the same bytes.
      const again = python<{ size: number; hex: string }>('shm-read', shm.name, '100');
      assert.equal(again.hex, shm.buf.toString('hex'));
      shm.close();
      shm.unlink();
      assert.equal(segmentExists(shm.name), false);
    });

    it("Node attaches with track: false to a segment Python made; each sees the other's writes; Node unlinks it", () => {
      const data = Buffer.from('made in python');
      const made = python<{ name: string; size: number }>('shm-create', '333', data.toString('hex'));
      names.push(made.name);
      assert.equal(segmentExists(made.name), true, 'the segment Python made is there after Python exited');

      const shm = new mp.SharedMemory({ name: made.name, track: false });
      assert.equal(shm.name, made.name);
      assert.equal(shm.size, 333);
      assert.deepEqual(shm.buf.subarray(0, data.length), data, "Python's bytes");
      assert.ok(shm.buf.subarray(data.length).every((b) => b === 0), 'the rest is zero');
      Buffer.from('node edit').copy(shm.buf, 5);
      shm.buf[332] = 0x5a;

      const seen = python<{ size: number; hex: string }>('shm-read', made.name, '333');
      assert.equal(seen.size, 333);
      assert.equal(seen.hex, shm.buf.toString('hex'), 'Python sees our edits');
      assert.equal(Buffer.from(seen.hex, 'hex').subarray(0, 14).toString(), 'made node edit');

      shm.close();
      shm.unlink();
      assert.equal(segmentExists(made.name), false);
    });
  });

  describe('ShareableList with CPython', () => {
    it("Python reads a list made here (every item type) as ours, and its sets, type changes included, show here", () => {
      const values: mp.ShareableValue[] = [
        42,
        -7,
        2n ** 62n,
        -(2n ** 63n),
        2n ** 63n - 1n,
        3.5,
        -1e-300,
        true,
        false,
        'héllo, wörld',
        '日本語のテキスト', // 8 characters, 24 bytes: sized by bytes here
        '',
        Buffer.from([0x00, 0x01, 0xfe, 0xff]),
        Buffer.alloc(0),
        null,
      ];
      const list = new mp.ShareableList(values);
      names.push(list.shm.name);
      const formatHere = list.format;
      assert.equal(formatHere, 'qqqqqdd' + 'xxxxxxx?'.repeat(2) + '16s32s8s8s8s' + 'xxxxxx?x');
      const edits: Array<[number, Tagged]> = [
        [0, ['str', 'forty-2']], // int -> str in its 8 bytes
        [1, ['none', null]], // int -> None
        [2, ['int', String(-(2n ** 62n) + 5n)]],
        [5, ['bool', true]], // float -> bool
        [7, ['float', 0.25]], // bool -> float
        [9, ['str', 'ünï']], // a shorter str
        [11, ['str', '12345678']], // fills its slot: no NUL left
        [12, ['bytes', 'c0ffee']],
        [14, ['int', '12345']], // None -> int
      ];

      const out = python<{ before: Tagged[]; format_before: string; after: Tagged[]; format: string; size: number }>('sl-edit', list.shm.name, JSON.stringify(edits));
      assert.deepEqual(out.before, values.map(tag), 'Python read our items');
      assert.equal(out.format_before, formatHere, "Python's format is ours");
      assert.equal(out.size, list.shm.size);

      assert.deepEqual(list.toArray().map(tag), out.after, "Python's sets show here");
      assert.equal(list.format, out.format);
      assert.equal(list.get(0), 'forty-2');
      assert.equal(list.get(1), null);
      assert.equal(list.get(2), -(2n ** 62n) + 5n);
      assert.equal(list.get(5), true);
      assert.equal(list.get(7), 0.25);
      assert.equal(list.get(9), 'ünï');
      assert.equal(list.get(11), '12345678');
      assert.deepEqual(list.get(12), Buffer.from([0xc0, 0xff, 0xee]));
      assert.equal(list.get(14), 12345);
      assert.equal(list.index('forty-2'), 0);
      assert.equal(list.count(null), 1);
      assert.equal(segmentExists(list.shm.name), true);

      list.shm.close();
      list.shm.unlink();
      assert.equal(segmentExists(list.shm.name), false);
    });

    it("Node attaches to a list Python made, reads Python's values and format, and Python sees Node's sets", () => {
      const pyValues: Tagged[] = [
        ['int', '-1'],
        ['int', String(2n ** 63n - 1n)],
        ['float', 2.5],
        ['bool', true],
        ['str', 'Grüße, 世界'], // 9 characters, 15 bytes: Python's slot (by characters) holds it
        ['bytes', '00ff10'],
        ['none', null],
        ['str', 'abcdefghijklmnop'],
        ['int', '0'],
      ];
      const made = python<{ name: string; format: string; hex: string; items: Tagged[] }>('sl-create', JSON.stringify(pyValues));
      names.push(made.name);
      assert.deepEqual(made.items, pyValues);

      const list = new mp.ShareableList(null, { name: made.name });
      assert.equal(list.length, pyValues.length);
      assert.deepEqual(list.toArray().map(tag), pyValues, "Python's items");
      assert.equal(list.format, made.format, "Python's format");
      assert.equal(list.get(1), 2n ** 63n - 1n);
      assert.equal(list.get(4), 'Grüße, 世界');

      // The same values made here give the same bytes.
      const mine = new mp.ShareableList(pyValues.map(untag));
      names.push(mine.shm.name);
      assert.equal(mine.format, made.format);
      assert.equal(mine.shm.buf.toString('hex'), made.hex, 'the same layout, byte for byte');
      mine.shm.close();
      mine.shm.unlink();

      list.set(0, 'xyz'); // int -> str
      list.set(1, null);
      list.set(2, 2n ** 62n); // float -> int
      list.set(3, 1.25); // bool -> float
      list.set(4, 'kurz');
      list.set(5, Buffer.from('ab'));
      list.set(6, true); // None -> bool
      list.set(7, '');
      assert.throws(() => list.set(7, 'x'.repeat(25)), RangeError, 'more than the 24 bytes allocated');
      list.set(8, -3.75);

      const seen = python<{ items: Tagged[]; format: string }>('sl-read', made.name);
      assert.deepEqual(seen.items, [
        ['str', 'xyz'],
        ['none', null],
        ['int', String(2n ** 62n)],
        ['float', 1.25],
        ['str', 'kurz'],
        ['bytes', '6162'],
        ['bool', true],
        ['str', ''],
        ['float', -3.75],
      ]);
      assert.equal(seen.format, list.format);

      list.shm.close();
      list.shm.unlink();
      assert.equal(segmentExists(made.name), false);
    });
  });

  describe('a C program on our segment and Lock', () => {
    let dir: string;
    let counterProgram: string;
    const TIMES_C = 200000;
    const TIMES_NODE = 100000;

    before(function () {
      dir = tempDir('mp-interop-');
      counterProgram = path.join(dir, 'interop_counter');
      const libs = process.platform === 'linux' ? ['-lrt'] : [];
      const result = spawnSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', counterProgram, COUNTER_SOURCE, '-pthread', ...libs], {
        encoding: 'utf8',
        timeout: RUN_MS,
      });
      if (result.error) {
        const missing = (result.error as NodeJS.ErrnoException).code === 'ENOENT';
        throw new Error(
          missing
            ? 'cc not found: the interop tests compile test/fixtures/interop_counter.c with a C compiler (install gcc or clang)'
            : `cc: ${result.error.message}`,
        );
      }
      assert.equal(result.status, 0, `cc failed to compile ${COUNTER_SOURCE}:\n${result.stderr}`);
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    for (const method of methods) {
      it(`counts under sem_wait/sem_post on lock.name beside two ${method} children under the same Lock: no count lost`, async () => {
        const ctx = mp.getContext(method);
        const shm = new mp.SharedMemory({ create: true, size: 8 });
        names.push(shm.name);
        const counter = new BigInt64Array(shm.buf.buffer, shm.buf.byteOffset, 1);
        const lock = new ctx.Lock();
        assert.match(lock.name, /^\/mp-[0-9a-f]+$/);
        const ready = new ctx.Semaphore(0);
        // Held until all three counters are ready: they start out contending.
        lock.acquireSync();

        const program = run(counterProgram, [shm.name, lock.name, ready.name, String(TIMES_C)]);
        const children = [t.countUnderLock, t.countUnderLockAsync].map((target) => {
          const p = new ctx.Process({ target: target as (...a: unknown[]) => unknown, args: [shm, lock, ready, TIMES_NODE] });
          p.start();
          return p;
        });
        for (let i = 0; i < 3; i++) assert.equal(await ready.acquire({ timeout: WAIT_MS }), true, `${i} of 3 counters ready`);
        lock.release();

        const c = await program;
        assert.deepEqual([c.code, c.signal, c.stderr], [0, null, ''], 'the C program');
        // Without turns taken between C and Node, this test would not test the exclusion.
        assert.ok(Number(c.stdout) > 0, `the C program saw no increments of the Node processes between two of its own (${c.stdout.trim()})`);
        for (const child of children) await child.join(JOIN_MS);
        assert.deepEqual(
          children.map((child) => child.exitCode),
          [0, 0],
        );
        assert.equal(counter[0], BigInt(TIMES_C + 2 * TIMES_NODE));
        assert.equal(lock.locked(), false);
        assert.equal(ready.getValue(), 0);

        shm.close();
        shm.unlink();
        assert.equal(segmentExists(shm.name), false);
      });
    }
  });
});
