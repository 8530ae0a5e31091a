// The examples and the Process tests, once more, as a user's project runs
// them: the package installed through a symlink (npm link, workspaces),
// imported as 'multiprocessing'. Their compiled files are copied into a new
// project whose node_modules/multiprocessing links to this checkout, with
// every import of the package's index rewritten to 'multiprocessing' (and
// of its internals to paths through the symlink).
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { tempDir } from './support/helpers';

const root = path.resolve(__dirname, '..', '..');
const dist = path.join(root, 'dist');
const mocha = path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');
const RUN_MS = 300000;

/** Copies the compiled .js files of `from` (recursively) into `to`, imports of the package rewritten. */
function copyRewritten(from: string, to: string, linked: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) {
      copyRewritten(source, target, linked);
    } else if (entry.name.endsWith('.js')) {
      const text = fs.readFileSync(source, 'utf8').replace(/require\("((?:\.\.\/)+)lib\/([^"]+)"\)/g, (_, _up: string, module: string) =>
        module === 'index' ? 'require("multiprocessing")' : `require(${JSON.stringify(path.join(linked, 'dist', 'lib', module))})`,
      );
      fs.writeFileSync(target, text);
    }
  }
}

function runMocha(project: string, files: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [mocha, '--no-config', '--timeout', '60000', ...files],
      { cwd: project, timeout: RUN_MS, killSignal: 'SIGKILL', maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, output: `${stdout}\n${stderr}` });
      },
    );
  });
}

describe('the examples and the Process tests with the package installed through a symlink', function () {
  this.timeout(RUN_MS + 30000);
  let project: string;
  before(() => {
    project = tempDir('mp-linked-');
    const linked = path.join(project, 'node_modules', 'multiprocessing');
    fs.mkdirSync(path.dirname(linked), { recursive: true });
    fs.symlinkSync(root, linked, 'dir');
    copyRewritten(path.join(dist, 'examples'), path.join(project, 'examples'), linked);
    copyRewritten(path.join(dist, 'test'), path.join(project, 'test'), linked);
  });
  after(() => fs.rmSync(project, { recursive: true, force: true }));

  for (const suite of ['examples', 'process']) {
    it(`test/${suite}.test.js passes, importing 'multiprocessing' through the symlink`, async () => {
      const file = path.join('test', `${suite}.test.js`);
      const text = fs.readFileSync(path.join(project, file), 'utf8');
      assert.doesNotMatch(text, /require\("\.\.\/lib/, 'the copy imports the installed package');
      const { code, output } = await runMocha(project, [file]);
      assert.equal(code, 0, output);
      assert.match(output, /\d+ passing/);
      assert.doesNotMatch(output, /\d+ failing/, output);
    });
  }
});
