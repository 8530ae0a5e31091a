// Twin of seed note 001 (English and Vietnamese, "Working around the GIL"), section "Subclassing
// processes": MyProcess extends Process, calls the parent constructor (the
// seed's point: super().__init__() is required) and overrides run(), which
// the child executes.
import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;

export class MyProcess extends mp.Process {
  constructor() {
    super();
  }

  override run(): void {
    console.log(`Child process PID: ${mp.currentProcess().pid}`);
  }
}

async function main(): Promise<void> {
  console.log(`Main Process PID: ${mp.currentProcess().pid}`);
  const myProcess = new MyProcess();
  myProcess.start();
  await myProcess.join(JOIN_TIMEOUT_MS);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
