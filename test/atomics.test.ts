// SharedMemory.sharedBuffer and mp.atomics: Atomics across processes of
// every start method, futex waits that any process mapping the memory can
// wake, and the argument checks.
import * as assert from 'node:assert/strict';

import * as mp from '../lib/index';
import * as t from './fixtures/atomics_targets';
import { withTimeout } from './support/helpers';

const JOIN_MS = 30000;
const WAIT_MS = 10000;
const methods: mp.StartMethod[] = ['fork', 'spawn', 'forkserver'];

function segment(size = 4096): mp.SharedMemory {
  return new mp.SharedMemory({ create: true, size });
}

function release(shm: mp.SharedMemory): void {
  shm.close();
  shm.unlink();
}

describe('SharedMemory.sharedBuffer', () => {
  it('is the very mapping buf is: Atomics on it show in buf, and the other way round', () => {
    const shm = segment();
    try {
      const sab = shm.sharedBuffer;
      assert.ok(sab instanceof SharedArrayBuffer);
      assert.equal(sab.byteLength, shm.size);
      assert.equal(shm.sharedBuffer, sab, 'one SharedArrayBuffer per mapping');
      const words = new Int32Array(sab);
      Atomics.add(words, 3, 41);
      assert.equal(shm.buf.readInt32LE(12), 41);
      shm.buf.writeInt32LE(7, 16);
      assert.equal(Atomics.load(words, 4), 7);
    } finally {
      release(shm);
    }
  });

  it('is refused once closed; a view kept from before reads zeros, and nothing crashes', () => {
    const shm = segment();
    const words = new Int32Array(shm.sharedBuffer);
    Atomics.store(words, 0, 5);
    release(shm);
    assert.throws(() => shm.sharedBuffer, /closed/);
    assert.equal(Atomics.load(words, 0), 0);
  });
});

describe('mp.atomics in one process', () => {
  it('waitSync: not-equal at once, timed-out after its timeout', () => {
    const shm = segment();
    try {
      const words = new Int32Array(shm.sharedBuffer);
      Atomics.store(words, 0, 1);
      assert.equal(mp.atomics.waitSync(words, 0, 2, WAIT_MS), 'not-equal');
      const started = performance.now();
      assert.equal(mp.atomics.waitSync(words, 0, 1, 30), 'timed-out');
      assert.ok(performance.now() - started >= 25);
    } finally {
      release(shm);
    }
  });

  it('wait: 300 concurrent waits, each woken by its own notify, and notify counts them', async () => {
    const shm = segment();
    try {
      const words = new Int32Array(shm.sharedBuffer);
      const waits = Array.from({ length: 300 }, (_, i) => mp.atomics.wait(words, i, 0, WAIT_MS));
      // Each wait is a thread entering the kernel; notify until it was there to be woken.
      let woken = 0;
      const deadline = performance.now() + WAIT_MS;
      for (let i = 0; i < 300; i++) {
        while (mp.atomics.notify(words, i) === 0) {
          assert.ok(performance.now() < deadline, `wait ${i} never reached the kernel`);
          await new Promise((resolve) => setImmediate(resolve));
        }
        woken++;
      }
      assert.equal(woken, 300);
      assert.deepEqual(new Set(await withTimeout(Promise.all(waits), 'the waits', WAIT_MS)), new Set(['ok']));
    } finally {
      release(shm);
    }
  });

  it('wait: not-equal and timed-out as Atomics.waitAsync, and the event loop stays free', async () => {
    const shm = segment();
    try {
      const words = new Int32Array(shm.sharedBuffer);
      assert.equal(await mp.atomics.wait(words, 0, 9), 'not-equal');
      assert.equal(await mp.atomics.wait(words, 0, 0, 0), 'timed-out');
      let ticks = 0;
      const ticking = setInterval(() => ticks++, 1);
      try {
        assert.equal(await withTimeout(mp.atomics.wait(words, 0, 0, 60), 'the wait', WAIT_MS), 'timed-out');
      } finally {
        clearInterval(ticking);
      }
      assert.ok(ticks > 5, `the loop ran ${ticks} times during a 60 ms wait`);
    } finally {
      release(shm);
    }
  });

  it('a BigInt64Array word waits and wakes', async () => {
    const shm = segment();
    try {
      const words = new BigInt64Array(shm.sharedBuffer);
      Atomics.store(words, 1, 1n << 40n);
      assert.equal(mp.atomics.waitSync(words, 1, 5n, WAIT_MS), 'not-equal');
      const waiting = mp.atomics.wait(words, 1, 1n << 40n, WAIT_MS);
      const deadline = performance.now() + WAIT_MS;
      while (mp.atomics.notify(words, 1) === 0) {
        assert.ok(performance.now() < deadline);
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(await waiting, 'ok');
    } finally {
      release(shm);
    }
  });

  it('bad arguments are refused with errors that name them', () => {
    const shm = segment();
    try {
      const words = new Int32Array(shm.sharedBuffer);
      const plain = new Int32Array(4);
      assert.throws(() => mp.atomics.waitSync(plain, 0, 0, 1), { name: 'TypeError', message: /"view".*SharedArrayBuffer/ });
      assert.throws(() => mp.atomics.notify(new Float64Array(shm.sharedBuffer) as never, 0), { name: 'TypeError', message: /"view"/ });
      assert.throws(() => mp.atomics.waitSync(words, 1024, 0, 1), { name: 'RangeError', message: /"index"/ });
      assert.throws(() => mp.atomics.waitSync(words, 1.5, 0, 1), { name: 'RangeError', message: /"index"/ });
      assert.throws(() => mp.atomics.waitSync(words, 0, 0n, 1), { name: 'TypeError', message: /"value"/ });
      assert.throws(() => mp.atomics.waitSync(new BigInt64Array(shm.sharedBuffer), 0, 0, 1), { name: 'TypeError', message: /"value"/ });
      assert.throws(() => mp.atomics.waitSync(words, 0, 0, '5' as never), { name: 'TypeError', message: /"timeoutMs"/ });
      assert.throws(() => mp.atomics.notify(words, 0, '1' as never), { name: 'TypeError', message: /"count"/ });
      return assert.rejects(mp.atomics.wait(plain, 0, 0, 1), { name: 'TypeError', message: /"view"/ });
    } finally {
      release(shm);
    }
  });
});

for (const method of methods) {
  describe(`mp.atomics across processes (${method})`, function () {
    this.timeout(60000);
    const ctx = mp.getContext(method);

    it('4 processes × 100,000 Atomics.add give the exact total', async () => {
      const shm = segment();
      try {
        const children = Array.from({ length: 4 }, () => new ctx.Process({ target: t.addMany, args: [shm.name, 100000] }));
        for (const child of children) child.start();
        for (const child of children) {
          await child.join(JOIN_MS);
          assert.equal(child.exitCode, 0);
        }
        assert.equal(Atomics.load(new Int32Array(shm.sharedBuffer), 0), 400000);
      } finally {
        release(shm);
      }
    });

    it('a wait/notify ping-pong of 200 rounds: the child blocks in waitSync, the parent awaits wait()', async () => {
      const shm = segment();
      try {
        const words = new Int32Array(shm.sharedBuffer);
        const rounds = 200;
        const child = new ctx.Process({ target: t.pingPong, args: [shm.name, rounds] });
        child.start();
        for (let round = 0; round < rounds; round++) {
          Atomics.store(words, 0, 2 * round + 1);
          mp.atomics.notify(words, 0);
          while (Atomics.load(words, 0) !== 2 * round + 2) {
            const result = await mp.atomics.wait(words, 0, 2 * round + 1, WAIT_MS);
            assert.notEqual(result, 'timed-out', `round ${round}: the child did not answer`);
          }
        }
        await child.join(JOIN_MS);
        assert.equal(child.exitCode, 0);
      } finally {
        release(shm);
      }
    });

    it('notify wakes waiters in other processes and counts them', async () => {
      const shm = segment();
      try {
        const words = new Int32Array(shm.sharedBuffer);
        const children = Array.from({ length: 2 }, () => new ctx.Process({ target: t.waitForChange, args: [shm.name] }));
        for (const child of children) child.start();
        let woken = 0;
        const deadline = performance.now() + WAIT_MS;
        while (woken < 2) {
          assert.ok(performance.now() < deadline, `${woken} of 2 waiters woken`);
          woken += mp.atomics.notify(words, 0);
          if (woken < 2) await new Promise((resolve) => setImmediate(resolve));
        }
        assert.equal(woken, 2);
        for (const child of children) {
          await child.join(JOIN_MS);
          assert.equal(child.exitCode, 0);
        }
      } finally {
        release(shm);
      }
    });
  });
}
