// The pid of the process running this line: currentProcess() is the
// MainProcess here, and its pid is process.pid. Python:
//   print(multiprocessing.current_process().pid)
import * as mp from '../lib/index';

async function main(): Promise<void> {
  console.log(mp.currentProcess().pid);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
