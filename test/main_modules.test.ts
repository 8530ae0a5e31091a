// Functions of the main module, in the shapes people write it: an ES module
// with top-level await (outside and inside the main guard), an ES module
// whose async main() is called under the guard without being awaited, and
// CommonJS. Each program maps a Pool task, runs a Process target and sends a
// function in a message, all defined in the main module, with each start
// method. Fork children use the very functions they inherited (and so see
// the parent's module state); spawn and forkserver children import the
// module anew (with import(), never require(), so top-level await works).
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const mains = path.resolve(__dirname, '..', '..', 'test', 'fixtures', 'mains');
const RUN_MS = 60000;

const shapes = [
  ['top-level await under the guard (and outside it)', 'tla.mjs'],
  ['an async main() called, not awaited, under the guard', 'main_call.mjs'],
  ['CommonJS', 'main.cjs'],
] as const;

for (const [shape, file] of shapes) {
  describe(`the main module's functions: ${shape}`, function () {
    this.timeout(RUN_MS + 10000);
    for (const method of ['fork', 'spawn', 'forkserver'] as const) {
      it(`${method}: Pool.map, a Process target and a function sent in a message`, async () => {
        const { stdout } = await run(process.execPath, [path.join(mains, file), method], { timeout: RUN_MS });
        // The state the guard set (factor 10) is the parent's: only a fork child has it.
        const factor = method === 'fork' ? 10 : 1;
        assert.deepEqual(JSON.parse(stdout), {
          map: [1, 4, 9].map((x) => x * factor),
          put: { name: 'Process-3', factor },
          exitCode: 0,
          called: 16 * factor,
          callerExitCode: 0,
        });
      });
    }
  });
}
