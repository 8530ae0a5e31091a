// Fork-safety under load: 300 fork children of a parent with an 80 MB heap,
// each allocating, JIT-compiling, waiting on a timer, reading a file and
// hashing, each under a watchdog (test/support/stress.ts; `npm run stress`
// runs 5000).
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

import type { StressReport } from './support/stress';

const run = promisify(execFile);

describe('fork-safety stress', function () {
  this.timeout(600000);

  it('300 children of an 80 MB-heap parent: no hang, no crash, every result right', async () => {
    const script = path.join(__dirname, 'support', 'stress.js');
    const { stdout } = await run(process.execPath, [script, '300', '--heap-mb', '80', '--json'], {
      timeout: 540000,
    }).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`stress run failed\nstdout: ${error.stdout}\nstderr: ${error.stderr}`);
    });
    const report = JSON.parse(stdout.trim().split('\n').pop() as string) as StressReport;
    assert.ok(report.parentHeapMB >= 80, `the parent's heap was only ${report.parentHeapMB} MB`);
    assert.equal(report.hangs, 0);
    assert.deepEqual(report.crashes, []);
    assert.equal(report.wrongResults, 0);
    assert.equal(report.ok, 300);
  });
});
