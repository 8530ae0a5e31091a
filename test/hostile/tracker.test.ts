// The resource tracker removes only what its tree registered, as it was
// registered: a crafted name cannot forge a record, bytes that are no
// record are ignored, a folder is removed only if it is one of the
// package's own temporary directories, and names are UTF-8.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as mp from '../../lib/index';
import { runFixture } from '../support/helpers';

function shmEntries(): string[] {
  return fs.readdirSync('/dev/shm').sort();
}

describe('hostile input: the resource tracker', function () {
  this.timeout(60000);

  it('refuses a shared memory name with control characters (RangeError naming options.name) and creates nothing', () => {
    const before = shmEntries();
    for (const name of ['x:shared_memory\nREGISTER:victim:shared_memory', 'tab\there', 'del\u007f', 'nul\u0000']) {
      assert.throws(() => new mp.SharedMemory({ name, create: true, size: 64 }), { name: 'RangeError', message: /"options\.name"/ });
      assert.throws(() => new mp.ShareableList([1, 2], { name }), { name: 'RangeError', message: /"options\.name"/ });
    }
    assert.deepEqual(shmEntries(), before);
  });

  it('a process of its tree cannot make it remove a segment or a folder that is not its own; UTF-8 names are removed', async () => {
    const victim = new mp.SharedMemory({ create: true, size: 64, track: false });
    const victimDir = fs.mkdtempSync(path.join(os.tmpdir(), 'victim-'));
    fs.writeFileSync(path.join(victimDir, 'precious'), 'keep me');
    try {
      // runFixture resolves once stderr closes: once the tracker too has exited, after its clean-up.
      const run = await runFixture('hostile_tracker', [victim.name, victimDir]);
      assert.equal(run.code, 0, run.stderr);
      const result = JSON.parse(run.stdout) as Record<string, string>;
      assert.equal(result.forgedName, 'RangeError', 'a name with a newline is refused');
      assert.ok(fs.existsSync(`/dev/shm/${victim.name}`), 'the victim segment is still there');
      assert.equal(fs.readFileSync(path.join(victimDir, 'precious'), 'utf8'), 'keep me', 'the victim folder is untouched');
      assert.match(run.stderr, /not one of the package's temporary directories/);
      assert.match(run.stderr, /not a resource tracker record/, 'bytes that are no record are reported');
      assert.equal(fs.existsSync(`/dev/shm/${result.unicode}`), false, 'the non-ASCII segment was removed');
      assert.ok(run.stderr.includes(result.unicode), `the warning names ${result.unicode} in UTF-8:\n${run.stderr}`);
    } finally {
      victim.unlink();
      victim.close();
      fs.rmSync(victimDir, { recursive: true, force: true });
    }
  });
});
