// The path a user takes on a fresh machine: `npm pack`, install the tarball
// into a new project, and use the package from ES modules, CommonJS and
// TypeScript there.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { tempDir } from './support/helpers';

const run = promisify(execFile);
const root = path.resolve(__dirname, '..', '..');
const INSTALL_MS = 300000;

// The default start method (forkserver) finds these exported targets by
// reference in the main module, behind the usual main guards.
const esmScript = `
import * as mp from 'multiprocessing';
import mpDefault from 'multiprocessing';
import { pathToFileURL } from 'node:url';
export function exitWith(code) { process.exit(code); }
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = {};
  for (const method of mp.getAllStartMethods()) {
    const p = new (mp.getContext(method).Process)({ target: exitWith, args: [3] });
    p.start();
    await p.join(20000);
    results[method] = p.exitCode;
  }
  console.log(JSON.stringify({ results, sameValues: mpDefault.Process === mp.Process }));
}
`;

const cjsScript = `
const mp = require('multiprocessing');
exports.setCode = async function setCode() { process.exitCode = 4; };
if (require.main === module) {
  const p = new mp.Process({ target: exports.setCode });
  p.start();
  p.join(20000).then(() => console.log(JSON.stringify({ exitCode: p.exitCode, name: p.name, method: mp.getStartMethod() })));
}
`;

const tsScript = `
import * as mp from 'multiprocessing';
const p: mp.Process = new (mp.getContext('fork').Process)({ target: (n: number) => process.exit(n), args: [5] });
p.start();
p.joinSync(20000);
const code: number | null = p.exitCode;
console.log(JSON.stringify({ exitCode: code }));
`;

describe('the packed package, installed into a new project', function () {
  this.timeout(INSTALL_MS + 60000);
  let project: string;

  before(async () => {
    project = tempDir('mp-pack-');
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', project], {
      cwd: root,
      timeout: INSTALL_MS,
    });
    const tarball = path.join(project, JSON.parse(stdout)[0].filename);
    fs.writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'mp-user', version: '1.0.0', private: true }),
    );
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
      cwd: project,
      timeout: INSTALL_MS,
    });
  });

  after(() => fs.rmSync(project, { recursive: true, force: true }));

  it('an ES module imports it and starts a child with each start method', async () => {
    fs.writeFileSync(path.join(project, 'start.mjs'), esmScript);
    const { stdout } = await run(process.execPath, ['start.mjs'], { cwd: project, timeout: 30000 });
    assert.deepEqual(JSON.parse(stdout), { results: { forkserver: 3, fork: 3, spawn: 3 }, sameValues: true });
  });

  it('a CommonJS script requires it and starts a child with the default method', async () => {
    fs.writeFileSync(path.join(project, 'start.cjs'), cjsScript);
    const { stdout } = await run(process.execPath, ['start.cjs'], { cwd: project, timeout: 30000 });
    assert.deepEqual(JSON.parse(stdout), { exitCode: 4, name: 'Process-1', method: 'forkserver' });
  });

  it('TypeScript finds its types through the exports map', async () => {
    fs.writeFileSync(path.join(project, 'fork.ts'), tsScript);
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(
      process.execPath,
      [tsc, '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022', '--types', 'node',
        '--typeRoots', path.join(root, 'node_modules', '@types'), 'fork.ts'],
      { cwd: project, timeout: 60000 },
    );
    const { stdout } = await run(process.execPath, ['fork.js'], { cwd: project, timeout: 30000 });
    assert.deepEqual(JSON.parse(stdout), { exitCode: 5 });
  });

  it('ships the sources to build from and no test code', () => {
    const installed = path.join(project, 'node_modules', 'multiprocessing');
    for (const file of ['binding.gyp', 'CMakeLists.txt', 'native/fork/fork.cc', 'dist/lib/index.js', 'dist/lib/index.mjs', 'dist/lib/index.d.ts']) {
      assert.ok(fs.existsSync(path.join(installed, file)), `${file} is missing`);
    }
    assert.equal(fs.existsSync(path.join(installed, 'dist', 'test')), false);
  });
});
