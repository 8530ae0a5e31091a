// Nothing leaks or breaks over long runs: a joined Process that is never
// closed gives its descriptor back when collected; watching a descriptor
// leaves its shared file flags alone; closing shared memory that native
// work still reads does not crash the process.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';

import * as mp from '../../lib/index';
import { native } from '../../lib/native';
import { runFixture, withTimeout } from '../support/helpers';

const SAMPLER = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'flag_sampler.py');

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

  it('a process sharing the descriptor never sees it non-blocking while watchers come and go', async () => {
    const [a, b] = mp.Pipe();
    // The sampler holds the same open file description as a (descriptor 3).
    const sampler = spawn('python3', [SAMPLER], { stdio: ['pipe', 'pipe', 'inherit', a.fileno()] });
    try {
      const lines = readline.createInterface({ input: sampler.stdout! });
      const iterator = lines[Symbol.asyncIterator]();
      assert.equal((await withTimeout(iterator.next(), 'the sampler to start', 10000)).value, 'ready');
      // Every connection, queue and sentinel wait starts with a watcher on
      // its descriptor; made here directly, a few thousand times, so that
      // any moment the description's flags change would be seen.
      for (let i = 0; i < 20000; i++) {
        const watcher = new native.IoWatcher(a.fileno(), () => undefined);
        watcher.setEvents(true, i % 2 === 0);
        watcher.close();
      }
      sampler.stdin!.end('stop\n');
      const line = (await withTimeout(iterator.next(), 'the sampler to report', 10000)).value as string;
      const [samples, nonblocking] = line.split(' ').map(Number);
      assert.ok(samples > 0, 'the sampler took no samples');
      assert.equal(nonblocking, 0, `${nonblocking} of ${samples} samples saw O_NONBLOCK on the shared description`);
    } finally {
      sampler.kill();
      a.close();
      b.close();
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
