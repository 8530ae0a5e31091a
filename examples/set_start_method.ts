// Choosing the start method for the whole program: setStartMethod('fork')
// once, in the main process, behind the main guard; a child reports the
// method that started it. Python:
//   multiprocessing.set_start_method('fork')
//   # in the child: multiprocessing.get_start_method()
import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;

export function showMethod(): void {
  console.log(`Start method: ${mp.getStartMethod()}`);
}

async function main(): Promise<void> {
  mp.setStartMethod('fork'); // 'fork' is for Linux and macOS only
  const p = new mp.Process({ target: showMethod });
  p.start();
  await p.join(JOIN_TIMEOUT_MS);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
