// Twin of the notes on memory in seed note 000 (Vietnamese, "Process (tiến trình)")
// ("Không chia sẻ biến toàn cục (global) giữa các process"),
// 001_4517217938e51cb5.txt ("Starting a process using fork": a child has
// the parent's global state as it was at the fork, but its own memory) and
// 002_e371cac5d514f731.txt, section 1 ("biến thay đổi ở tiến trình này
// không ảnh hưởng trực tiếp đến tiến trình khác"). The seeds have no code for
// this; the example shows it: each child sees the parent's globals as they
// were at start() (closures included: with 'fork' nothing is serialized),
// changes them, and neither the parent nor the next child sees the change.
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
