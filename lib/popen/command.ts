// The node command line of spawned children and of the forkserver: the
// parent's executable and its Node options (loaders such as --import tsx
// carry over), minus the ones that say what to run.
import * as path from 'node:path';

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

/** The compiled bootstrap script `name` (dist/lib/bootstrap/<name>.js). */
export function bootstrapScript(name: string): string {
  return path.join(__dirname, '..', 'bootstrap', `${name}.js`);
}

export function environment(): string[] {
  const env: string[] = [];
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined) env.push(`${key}=${value}`);
  }
  return env;
}
