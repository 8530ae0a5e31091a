// Twin of seed note 001 (English and Vietnamese, "Working around the GIL"), sections "Lấy PID, name
// của process" and "Getting current process" (the same two lines twice):
// print(multiprocessing.current_process().pid) in the main process.
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
