// Twin of seed note 001 (English and Vietnamese, "Working around the GIL"), section "Utilizing
// sub-processes": myProcessFunc() runs in a child process (in Python, with
// its own GIL; here, with its own V8 heap and event loop), and the main
// process prints its last line once join() has returned.
import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;

export function myProcessFunc(): void {
  console.log('Currently Executing Child Process');
  console.log("This process has it's own instance of the GIL");
  console.log('Executing Main Process');
  console.log('Creating Child Process');
}

async function main(): Promise<void> {
  const myProcess = new mp.Process({ target: myProcessFunc });
  myProcess.start();
  await myProcess.join(JOIN_TIMEOUT_MS);
  console.log('Child Process has terminated, terminating main process');
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
