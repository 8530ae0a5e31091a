// Start methods and contexts (docs/API.md section 1).
import * as assert from 'node:assert/strict';

import * as mp from '../lib/index';
import * as shm from './fixtures/shm_targets';

/** The one top-level name a Context does not repeat (docs/API.md): the class itself. */
const TOP_LEVEL_ONLY = new Set(['Context']);
/** Names a Context has in its own version: bound to its start method, or about the context itself. */
const CONTEXT_OWN = new Set(['Process', 'Pool', 'Manager', 'getContext', 'getStartMethod', 'setStartMethod']);

describe('contexts', () => {
  it("getContext('fork') makes processes that fork", async () => {
    const ctx = mp.getContext('fork');
    assert.equal(ctx.getStartMethod(), 'fork');
    const p = new ctx.Process({ target: () => process.exit(9) });
    assert.ok(p instanceof mp.Process);
    p.start();
    await p.join(10000);
    assert.equal(p.exitCode, 9);
    assert.equal(mp.getContext('fork'), ctx);
  });

  it("lists the start methods, the default ('forkserver') first", () => {
    mp.setStartMethod(null, { force: true });
    assert.deepEqual(mp.getAllStartMethods(), ['forkserver', 'fork', 'spawn']);
    assert.equal(mp.getContext().getStartMethod(), 'forkserver');
    assert.equal(mp.getStartMethod(true), null, 'nothing chosen yet');
    assert.equal(mp.getStartMethod(), 'forkserver');
    mp.setStartMethod(null, { force: true });
  });

  it('every context carries every constructor and function of the top level', () => {
    const exported = Object.entries(mp).filter(([, value]) => typeof value === 'function' || (typeof value === 'object' && value !== null));
    assert.ok(exported.length > 40, 'the walk sees the exports');
    for (const method of mp.getAllStartMethods()) {
      const ctx = mp.getContext(method) as unknown as Record<string, unknown>;
      for (const [name, value] of exported) {
        if (TOP_LEVEL_ONLY.has(name)) continue;
        assert.ok(name in ctx, `getContext('${method}').${name} is missing`);
        assert.equal(typeof ctx[name], typeof value, `getContext('${method}').${name}`);
        // The very same object, but where the context has its own version.
        if (!CONTEXT_OWN.has(name)) assert.equal(ctx[name], value, `getContext('${method}').${name}`);
      }
    }
  });

  it("a context's getContext() with no argument is itself; its start method is fixed", () => {
    for (const method of mp.getAllStartMethods()) {
      const ctx = mp.getContext(method);
      assert.equal(ctx.getStartMethod(), method);
      assert.equal(ctx.getContext(), ctx);
      assert.equal(ctx.getContext(null), ctx);
      assert.equal(ctx.getContext('spawn'), mp.getContext('spawn'));
      assert.ok(new ctx.Process() instanceof mp.Process);
      assert.equal(ctx.Process.name, 'Process');
      assert.ok(ctx.Pool.prototype instanceof mp.Pool);
      assert.equal(ctx.Pool.name, 'Pool');
      assert.throws(() => ctx.setStartMethod('fork'), { message: 'cannot set start method of concrete context' });
    }
  });

  it('setForkserverPreload() takes an array of strings', () => {
    assert.throws(() => mp.setForkserverPreload('x' as unknown as string[]), { name: 'TypeError', message: /"modules"/ });
    assert.throws(() => mp.setForkserverPreload([1 as unknown as string]), { name: 'TypeError', message: /"modules"/ });
  });

  it('an unknown method is a RangeError naming the value and the allowed ones', () => {
    assert.throws(() => mp.getContext('thread' as mp.StartMethod), (error: Error) => {
      assert.equal(error.name, 'RangeError');
      assert.match(error.message, /"method"/);
      assert.match(error.message, /'thread'/);
      assert.match(error.message, /'fork'/);
      return true;
    });
    assert.throws(() => mp.setStartMethod('bogus' as mp.StartMethod, { force: true }), RangeError);
  });

  it('setStartMethod() a second time needs force', () => {
    mp.setStartMethod('fork', { force: true });
    assert.equal(mp.getStartMethod(), 'fork');
    assert.throws(() => mp.setStartMethod('fork'), { message: 'context has already been set' });
    mp.setStartMethod('spawn', { force: true });
    assert.equal(mp.getStartMethod(), 'spawn');
    mp.setStartMethod(null, { force: true });
    assert.equal(mp.getStartMethod(true), null);
  });

  it('a fork child reports the start method that started it', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const out = path.join(os.tmpdir(), `mp-method-${process.pid}.txt`);
    const p = new (mp.getContext('fork').Process)({
      target: () => fs.writeFileSync(out, String(mp.getStartMethod())),
    });
    p.start();
    await p.join(10000);
    assert.equal(fs.readFileSync(out, 'utf8'), 'fork');
    fs.rmSync(out);
  });

  it('exports every error class, with Python\'s hierarchy', () => {
    for (const E of [mp.BufferTooShort, mp.AuthenticationError, mp.TimeoutError, mp.RemoteError, mp.WorkerLostError]) {
      const e = new E('x');
      assert.ok(e instanceof mp.ProcessError && e instanceof Error);
      assert.equal(e.name, E.name);
    }
    for (const E of [mp.EOFError, mp.Empty, mp.Full, mp.BrokenBarrierError, mp.SerializationError]) {
      const e = new E('x');
      assert.ok(e instanceof Error && !(e instanceof mp.ProcessError));
      assert.equal(e.name, E.name);
    }
  });

  for (const method of ['fork', 'spawn', 'forkserver'] as const) {
    it(`Value, Array, RawValue and RawArray made through getContext('${method}') are shared with its children`, async () => {
      const ctx = mp.getContext(method);
      const values = [ctx.Value('i', 1), ctx.Value('d', 0.5, { lock: false })];
      const array = ctx.Array('i', [1, 2, 3, 4]);
      const raw = ctx.RawArray('i', 4);
      const rawValue = ctx.RawValue('d');
      const children = [
        new ctx.Process({ target: shm.setValues, args: [values, [7, 1.25]] }),
        new ctx.Process({ target: shm.prefixSums, args: [array] }),
        new ctx.Process({ target: shm.writeRaw, args: [raw, rawValue] }),
      ];
      for (const child of children) child.start();
      for (const child of children) {
        await child.join(20000);
        assert.equal(child.exitCode, 0);
      }
      assert.deepEqual(values.map((v) => v.value), [7, 1.25]);
      assert.deepEqual(array.toArray(), [1, 3, 6, 10]);
      assert.deepEqual([...raw], [0, 1, 4, 9]);
      assert.equal(rawValue.value, 2.5);
      assert.ok(values[0] instanceof mp.SynchronizedValue);
      assert.ok(array.getLock() instanceof mp.RLock);
    });
  }
});
