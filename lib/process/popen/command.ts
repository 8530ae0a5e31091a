// The node command line of spawned children and of the forkserver: the
// parent's executable and its Node options (loaders such as --import tsx
// carry over), minus the ones that say what to run.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { native } from '../../native';

// Options that replace the script or change what Node runs (with their value when separate).
const dropWithValue = new Set(['-e', '--eval', '-p', '--print']);
const dropAlone = /^(-i|--interactive|--test|--watch|--watch-path|--check|-c|--eval=.*|--print=.*|--test-.*|--watch-.*)$/;

export function nodeOptions(execArgv: readonly string[] = process.execArgv): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const option = execArgv[i];
    if (dropWithValue.has(option)) {
      i++;
      continue;
    }
    if (dropAlone.test(option)) continue;
    kept.push(option);
  }
  return kept;
}

/** The compiled bootstrap script `name` (dist/lib/entry/<name>.js). */
export function bootstrapScript(name: string): string {
  return path.join(__dirname, '..', '..', 'entry', `${name}.js`);
}

/**
 * Starts `node [Node options] [...nodeArgs] <bootstrap script> [...scriptArgs]`
 * with this process's environment and directory, stdin /dev/null, this
 * process's stdout and stderr, and `fds` ([child descriptor, ours]) besides.
 * `detached`: a daemon of this package that runs none of the user's code
 * (the resource tracker): in a session of its own with no parent in this
 * tree, started in / without this process's Node options.
 */
export function spawnNode(
  script: string,
  options: { nodeArgs?: string[]; scriptArgs?: string[]; fds: Array<[number, number]>; detached?: boolean },
): { pid: number; sentinel: number } {
  const detached = options.detached === true;
  const devNull = fs.openSync('/dev/null', 'r');
  try {
    return native.spawnProcess({
      file: process.execPath,
      args: [
        process.execPath,
        ...(detached ? [] : nodeOptions()),
        ...(options.nodeArgs ?? []),
        bootstrapScript(script),
        ...(options.scriptArgs ?? []),
      ],
      env: environment(),
      cwd: detached ? '/' : process.cwd(),
      fds: [[0, devNull], [1, 1], [2, 2], ...options.fds],
      detached,
    });
  } finally {
    fs.closeSync(devNull);
  }
}

function environment(): string[] {
  const env: string[] = [];
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined) env.push(`${key}=${value}`);
  }
  return env;
}
