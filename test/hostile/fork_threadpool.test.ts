// Forking while libuv's threadpool runs crypto, zlib and dns work leaves no
// lock held and no stale completion in the child: 1,000 forks under load,
// each child then using crypto, zlib and dns itself, all complete.
import * as assert from 'node:assert/strict';

import { runFixture } from '../support/helpers';

describe('hostile input: fork with busy helper threads', function () {
  this.timeout(300000);

  it('1,000 forks while the threadpool is busy: every child completes its own crypto, zlib and dns work', async () => {
    const run = await runFixture('busy_threadpool', ['1000', '4'], { timeoutMs: 280000 });
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as { forks: number; failures: string[]; jobs: number };
    assert.equal(result.forks, 1000);
    assert.deepEqual(result.failures, [], `children that failed: ${result.failures.slice(0, 10).join(', ')}`);
    assert.ok(result.jobs > 0, 'the parent kept its threadpool busy meanwhile');
  });
});
