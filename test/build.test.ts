// The addon builds three ways from the same sources: node-gyp (the install
// default), cmake-js (`npm run build:cmake`) and prebuildify
// (`npm run prebuild`, picked up by node-gyp-build). Each build is loaded in
// a fresh Node process and forks a child.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { fixture, tempDir } from './support/helpers';

const run = promisify(execFile);
const root = path.resolve(__dirname, '..', '..');
const BUILD_MS = 300000;

async function forkWith(addonPath: string): Promise<{ abi: number; exitCode: number }> {
  const { stdout } = await run(process.execPath, [fixture('load_addon'), addonPath], { timeout: 30000 });
  return JSON.parse(stdout);
}

/** Runs an npm script of this package unless its output is already there. */
async function ensureBuilt(artifact: string, script: string): Promise<void> {
  if (fs.existsSync(artifact)) return;
  await run('npm', ['run', script], { cwd: root, timeout: BUILD_MS });
}

describe('the addon builds', function () {
  this.timeout(BUILD_MS + 60000);

  it('with node-gyp: build/Release/multiprocessing.node loads and forks', async () => {
    const result = await forkWith(path.join(root, 'build', 'Release', 'multiprocessing.node'));
    assert.deepEqual(result, { abi: Number(process.versions.modules), exitCode: 7 });
  });

  it('with cmake-js: npm run build:cmake gives an addon that loads and forks', async () => {
    const addon = path.join(root, 'build-cmake', 'Release', 'multiprocessing.node');
    await ensureBuilt(addon, 'build:cmake');
    const result = await forkWith(addon);
    assert.deepEqual(result, { abi: Number(process.versions.modules), exitCode: 7 });
  });

  it('with prebuildify: npm run prebuild makes prebuilds/linux-x64, which node-gyp-build picks', async () => {
    const prebuild = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'multiprocessing.node');
    await ensureBuilt(prebuild, 'prebuild');
    // A package folder holding only the prebuild: node-gyp-build must find it.
    const dir = tempDir('mp-prebuild-');
    try {
      fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
      fs.cpSync(path.join(root, 'prebuilds'), path.join(dir, 'prebuilds'), { recursive: true });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
      const chosen = nodeGypBuild.path(dir);
      assert.equal(path.relative(dir, chosen), path.join('prebuilds', `${process.platform}-${process.arch}`, 'multiprocessing.node'));
      const result = await forkWith(chosen);
      assert.deepEqual(result, { abi: Number(process.versions.modules), exitCode: 7 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
