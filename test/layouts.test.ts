// One copy of the package in every process, however it was installed: in a
// real directory, through a symlink (npm link, workspaces), and in pnpm's
// layout (the package under node_modules/.pnpm/…, linked from
// node_modules). The same program, as an ES module and as CommonJS, starts
// a child and a grandchild with each start method; each reports what it
// sees of the package.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { tempDir } from './support/helpers';

const root = path.resolve(__dirname, '..', '..');
const programs = path.join(root, 'test', 'fixtures', 'layouts');
const RUN_MS = 90000;

interface Report {
  name: string;
  parentPid: number | null;
  pid: number;
  copies: number;
  sameAsRequire: boolean;
  queueIsQueue?: boolean;
}

interface Outcome {
  main: Report;
  results: Record<string, { exitCode: number | null; reports: Report[] }>;
}

/** The files an installed copy of the package has (what `npm pack` ships that runs). */
function copyPackage(into: string): void {
  fs.mkdirSync(into, { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(into, 'package.json'));
  fs.cpSync(path.join(root, 'dist', 'lib'), path.join(into, 'dist', 'lib'), { recursive: true });
  fs.mkdirSync(path.join(into, 'build', 'Release'), { recursive: true });
  fs.copyFileSync(
    path.join(root, 'build', 'Release', 'multiprocessing.node'),
    path.join(into, 'build', 'Release', 'multiprocessing.node'),
  );
}

function copyDependencies(nodeModules: string): void {
  const { dependencies } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  for (const name of Object.keys(dependencies)) {
    fs.cpSync(path.join(root, 'node_modules', name), path.join(nodeModules, name), { recursive: true });
  }
}

const layouts: Record<string, (project: string) => void> = {
  'a real directory': (project) => {
    copyPackage(path.join(project, 'node_modules', 'multiprocessing'));
    copyDependencies(path.join(project, 'node_modules'));
  },
  'a symlink (npm link, workspaces)': (project) => {
    fs.mkdirSync(path.join(project, 'node_modules'));
    fs.symlinkSync(root, path.join(project, 'node_modules', 'multiprocessing'), 'dir');
  },
  "pnpm's layout": (project) => {
    const store = path.join(project, 'node_modules', '.pnpm', 'multiprocessing@0.1.0', 'node_modules');
    copyPackage(path.join(store, 'multiprocessing'));
    copyDependencies(store);
    fs.symlinkSync(
      path.join('.pnpm', 'multiprocessing@0.1.0', 'node_modules', 'multiprocessing'),
      path.join(project, 'node_modules', 'multiprocessing'),
      'dir',
    );
  },
};

function checkOutcome(outcome: Outcome, mainPid: number | undefined): void {
  assert.deepEqual(outcome.main, { name: 'MainProcess', parentPid: null, pid: mainPid, copies: 1, sameAsRequire: true });
  assert.deepEqual(Object.keys(outcome.results), ['fork', 'spawn', 'forkserver']);
  for (const [method, { exitCode, reports }] of Object.entries(outcome.results)) {
    assert.equal(exitCode, 0, `${method}: exit code ${exitCode}, reports ${JSON.stringify(reports)}`);
    // The two puts come from two processes: either may arrive first.
    const [child, grandchild] = [...reports].sort((a, b) => a.name.length - b.name.length);
    assert.match(child.name, /^Process-\d+$/, method);
    assert.equal(grandchild.name, `${child.name}:1`, method);
    assert.equal(child.parentPid, mainPid, `${method}: the child's parentProcess()`);
    assert.equal(grandchild.parentPid, child.pid, `${method}: the grandchild's parentProcess()`);
    for (const report of reports) {
      assert.equal(report.copies, 1, `${method}: ${report.name} loaded the package ${report.copies} times`);
      assert.equal(report.sameAsRequire, true, `${method}: ${report.name}: import and require give the same package`);
      assert.equal(report.queueIsQueue, true, `${method}: ${report.name}: a Queue received is an mp.Queue`);
    }
  }
}

describe('one copy of the package in every process, whatever the install layout', function () {
  this.timeout(RUN_MS * 2 + 30000);
  const projects: string[] = [];
  after(() => {
    for (const project of projects) fs.rmSync(project, { recursive: true, force: true });
  });

  for (const [layout, install] of Object.entries(layouts)) {
    for (const program of ['check.mjs', 'check.cjs']) {
      it(`${layout}: ${program === 'check.mjs' ? 'an ES module' : 'CommonJS'}, all three methods, grandchildren too`, async () => {
        const project = tempDir('mp-layout-');
        projects.push(project);
        install(project);
        fs.copyFileSync(path.join(programs, program), path.join(project, program));
        // stdout is a pipe, as under any runner: the case where Node stopped following symlinks.
        const child = execFile(process.execPath, [program], { cwd: project, timeout: RUN_MS, killSignal: 'SIGKILL' });
        const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
          let out = '';
          let err = '';
          child.stdout?.on('data', (d: Buffer) => (out += d));
          child.stderr?.on('data', (d: Buffer) => (err += d));
          child.on('close', (code, signal) =>
            code === 0 ? resolve({ stdout: out }) : reject(new Error(`exit ${code ?? signal}\n${out}\n${err}`)),
          );
        });
        checkOutcome(JSON.parse(stdout) as Outcome, child.pid);
      });
    }
  }
});
