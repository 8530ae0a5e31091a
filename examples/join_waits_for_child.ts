// join() waits for the child: every line the child prints comes before the
// parent's line after join(). The child has its own V8 heap and event loop
// (in Python: its own interpreter and GIL). Python:
//   my_process = multiprocessing.Process(target=my_process_func)
//   my_process.start()
//   my_process.join()
//   print("Child Process has terminated, terminating main process")
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
