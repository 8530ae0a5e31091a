// Start methods and contexts (API.md section 1).
import * as assert from 'node:assert/strict';

import * as mp from '../lib/index';

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

  it('every context carries the constructors and functions of the top level', () => {
    for (const method of mp.getAllStartMethods()) {
      const ctx = mp.getContext(method);
      assert.equal(ctx.getStartMethod(), method);
      assert.ok(new ctx.Process() instanceof mp.Process);
      assert.equal(ctx.Process.name, 'Process');
      assert.equal(ctx.getContext('spawn'), mp.getContext('spawn'));
      for (const name of ['currentProcess', 'parentProcess', 'activeChildren', 'cpuCount', 'registerAtFork', 'setForkserverPreload', 'getAllStartMethods'] as const) {
        assert.equal(typeof ctx[name], 'function', name);
      }
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
});
