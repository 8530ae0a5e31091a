// What `require('multiprocessing')` loads, and what it loads only at first
// use (lib/lazy.ts): the same classes either way, in the index and in
// contexts, and children revive objects of parts nothing loaded in them.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

import * as mp from '../lib/index';
import { Pool } from '../lib/pool/pool';
import { Lock } from '../lib/synchronize/locks';
import { runFixture } from './support/helpers';

const run = promisify(execFile);
const lib = path.resolve(__dirname, '..', 'lib');

describe('loading at first use', function () {
  this.timeout(60000);

  it('require() loads the core only; the Pool, managers, queues, locks and shared memory load when first read', async () => {
    const script = `
      const path = require('node:path');
      const loaded = () => Object.keys(require.cache).filter((f) => f.startsWith(${JSON.stringify(lib + path.sep)})).map((f) => path.relative(${JSON.stringify(lib)}, f));
      const mp = require(${JSON.stringify(path.join(lib, 'index.js'))});
      const before = loaded();
      const classes = [mp.Pool, mp.Lock, mp.Queue, mp.SharedMemory, mp.Value, mp.managers.ListProxy].map((c) => typeof c);
      console.log(JSON.stringify({ before, after: loaded(), classes }));
    `;
    const { stdout } = await run(process.execPath, ['-e', script], { timeout: 30000 });
    const { before, after, classes } = JSON.parse(stdout) as { before: string[]; after: string[]; classes: string[] };
    const lazyParts = ['pool/pool.js', 'managers/manager.js', 'queues.js', 'synchronize/locks.js', 'sharedmem/shared_memory.js', 'sharedmem/sharedctypes.js'];
    for (const part of lazyParts) {
      assert.ok(!before.includes(part), `${part} was loaded by require() itself`);
      assert.ok(after.includes(part), `${part} was not loaded by its first read`);
    }
    assert.ok(before.includes('process/process.js') && before.includes('context.js'));
    assert.deepEqual(classes, ['function', 'function', 'function', 'function', 'function', 'function']);
  });

  it('the index and every context give the very classes of the modules, and a context keeps its bound Pool', () => {
    assert.equal(mp.Pool, Pool);
    assert.equal(mp.Lock, Lock);
    const ctx = mp.getContext('spawn');
    assert.equal(ctx.Lock, Lock);
    assert.equal(ctx.Queue, mp.Queue);
    assert.equal(ctx.Array, mp.Array);
    assert.equal(ctx.managers, mp.managers);
    assert.equal(ctx.Pool, ctx.Pool, 'one bound Pool class per context');
    assert.ok(ctx.Pool.prototype instanceof Pool);
    assert.equal(ctx.Pool.name, 'Pool');
    assert.notEqual(mp.getContext('fork').Pool, ctx.Pool);
    assert.ok(Object.keys(mp).includes('Pool'), 'lazy exports are enumerable');
  });

  it("children of every method revive a Lock, a Queue and a Value though their main module never touched those parts", async () => {
    const r = await runFixture('lazy_main', [], { timeoutMs: 60000 });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['fork 0 42 fork', 'spawn 0 42 spawn', 'forkserver 0 42 forkserver']);
  });
});
