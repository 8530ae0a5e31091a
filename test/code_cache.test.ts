// The spawn child's code cache (lib/child/code_cache.ts): written by a
// child that compiled without it, used by the next, ignored when stale,
// corrupt or kept where others could write it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as mp from '../lib/index';
import { returnValue } from './fixtures/targets';

const JOIN_MS = 30000;

function cacheDir(home: string): string {
  return path.join(home, 'multiprocessing-node', `${process.version}-${process.arch}`);
}

function entries(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((name) => name.endsWith('.v8')).sort();
  } catch {
    return [];
  }
}

/** Runs a spawn child with XDG_CACHE_HOME at `home`; asserts it ran. */
async function spawnWithCacheHome(home: string): Promise<void> {
  const saved = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = home;
  try {
    const child = new (mp.getContext('spawn').Process)({ target: returnValue });
    child.start();
    await child.join(JOIN_MS);
    assert.equal(child.exitCode, 0);
    child.close();
  } finally {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
  }
}

describe('the spawn child code cache', function () {
  this.timeout(60000);
  let home: string;

  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-cache-test-'));
  });

  afterEach(() => {
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('the first child writes it (0700 directory, 0600 files); the next uses it and writes nothing', async () => {
    await spawnWithCacheHome(home);
    const dir = cacheDir(home);
    const written = entries(dir);
    assert.ok(written.length > 10, `${written.length} modules cached`);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    for (const name of written) assert.equal(fs.statSync(path.join(dir, name)).mode & 0o777, 0o600);
    const before = new Map(written.map((name) => [name, fs.statSync(path.join(dir, name)).mtimeMs]));
    await spawnWithCacheHome(home);
    assert.deepEqual(entries(dir), written);
    for (const name of written) assert.equal(fs.statSync(path.join(dir, name)).mtimeMs, before.get(name), `${name} was written again`);
  });

  it('corrupt entries are rejected and written again; the child runs all the same', async () => {
    await spawnWithCacheHome(home);
    const dir = cacheDir(home);
    const written = entries(dir);
    for (const name of written) fs.writeFileSync(path.join(dir, name), Buffer.alloc(64, 0x5a));
    await spawnWithCacheHome(home);
    const rewritten = written.filter((name) => fs.statSync(path.join(dir, name)).size !== 64);
    assert.ok(rewritten.length > 10, `only ${rewritten.length} of ${written.length} entries were written again`);
  });

  it('a cache directory others can write is not used', async () => {
    const dir = cacheDir(home);
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(dir, 0o777);
    await spawnWithCacheHome(home);
    assert.deepEqual(entries(dir), []);
  });
});
