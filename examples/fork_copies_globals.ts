// With 'fork' a child starts from a copy of the parent's memory: it sees the
// globals as they were at start() (a closure works as a target, since nothing
// is serialized), its changes stay in its copy, and neither the parent nor the
// next child sees them. Python: a forked child inherits the parent's module
// globals; a change in one process does not reach another.
import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;

let counter = 0;
const history: string[] = [];

export function changeGlobals(who: string): void {
  console.log(`[${who}] sees counter=${counter} history=${JSON.stringify(history)}`);
  counter += 1;
  history.push(who);
  console.log(`[${who}] changed counter to ${counter} history=${JSON.stringify(history)}`);
}

async function main(): Promise<void> {
  counter = 10;
  history.push('parent');
  console.log(`[parent] before start: counter=${counter} history=${JSON.stringify(history)}`);

  for (const name of ['child-1', 'child-2']) {
    // The target is a closure over `name` and over the module's globals.
    const p = new (mp.getContext('fork').Process)({ target: () => changeGlobals(name), name });
    p.start();
    await p.join(JOIN_TIMEOUT_MS);
    console.log(`[parent] ${name} exited with code ${p.exitCode}`);
  }

  console.log(`[parent] after join: counter=${counter} history=${JSON.stringify(history)}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
