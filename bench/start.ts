// `npm start`: the startup benchmark in its quick form (about 30 s: fork,
// forkserver and spawn against Python, child_process, worker_threads,
// node -e and the C floor), its chart, then the 20-line demo
// (examples/demo.ts), then where the full suite is.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { main as cli } from './cli';
import { root, runAsMain } from './common';

async function main(): Promise<number> {
  const results = path.join(root, 'bench', 'results');
  fs.mkdirSync(results, { recursive: true });
  const chart = path.join(results, 'startup-quick.svg');
  const benchCode = await cli(['startup', '--quick', '--svg', chart]);
  console.log('\n--- the demo (examples/demo.ts) ---');
  const demo = spawnSync(process.execPath, [path.join(root, 'dist', 'examples', 'demo.js')], { stdio: 'inherit', timeout: 60000 });
  const relative = (file: string): string => path.relative(process.cwd(), file) || file;
  console.log(
    [
      '',
      `The chart of this run: ${relative(chart)}`,
      'The full suite (all six suites, every peer, the fork cost against a 0/100/500 MB parent; 11 minutes on 2 CPUs here):',
      '  npm run bench            (writes bench/results/all.{json,md,csv,svg})',
      '  npx multiprocessing-bench --help',
      'The tests: npm test',
    ].join('\n'),
  );
  return benchCode !== 0 ? benchCode : demo.status === 0 ? 0 : 1;
}

runAsMain(module, main);
