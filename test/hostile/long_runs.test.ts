// Nothing leaks or breaks over long runs: a joined Process that is never
// closed gives its descriptor back when collected; watching a descriptor
// leaves its shared file flags alone; closing shared memory that native
// work still reads does not crash the process.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';

import * as mp from '../../lib/index';
import { runFixture } from '../support/helpers';

const O_NONBLOCK = 0o4000;

/** The file status flags of `fd`'s open file description, as the kernel reports them. */
function fileFlags(fd: number): number {
  const info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  const match = /^flags:\s*([0-7]+)$/m.exec(info);
  if (match === null) throw new Error(`no flags in /proc/self/fdinfo/${fd}`);
  return parseInt(match[1], 8);
}

describe('hostile input: long runs', function () {
  this.timeout(120000);

  for (const [method, count] of [['fork', 200], ['spawn', 20], ['forkserver', 60]] as const) {
    it(`${count} ${method} lifecycles without close(): the descriptors go with the collected objects`, async () => {
      const run = await runFixture('long_runs', ['lifecycles', method, String(count)], { timeoutMs: 110000 });
      assert.equal(run.code, 0, run.stderr);
      const { before, after } = JSON.parse(run.stdout) as { before: number; after: number };
      assert.ok(after - before <= 2, `${after - before} more descriptors open after ${count} lifecycles`);
    });
  }

  it('waiting on a connection or a queue does not make the shared descriptor non-blocking', async () => {
    const [a, b] = mp.Pipe();
    const queue = new mp.Queue<number>();
    try {
      assert.equal(await a.poll(5), false);
      const got = a.recv();
      b.send(1);
      assert.equal(await got, 1);
      await assert.rejects(queue.get({ timeout: 5 }), { name: 'Empty' });
      for (const fd of [a.fileno(), b.fileno()]) assert.equal(fileFlags(fd) & O_NONBLOCK, 0, `descriptor ${fd} is still blocking`);
    } finally {
      a.close();
      b.close();
      queue.close();
    }
  });

  it('SharedMemory.close() while zlib still deflates its buffer: no crash, every job completes', async () => {
    const run = await runFixture('long_runs', ['close-under-zlib']);
    assert.equal(run.signal, null, `the process died of ${run.signal}`);
    assert.equal(run.code, 0, run.stderr);
    const { lengths } = JSON.parse(run.stdout) as { lengths: number[] };
    assert.equal(lengths.length, 4);
    for (const length of lengths) assert.ok(length > 0);
  });
});
