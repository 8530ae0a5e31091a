// A subclass of Process overrides run(), which the child executes; its
// constructor calls super() first. With spawn and forkserver the subclass
// must be exported, as here. Python:
//   class MyProcess(multiprocessing.Process):
//       def __init__(self):
//           super(MyProcess, self).__init__()
//       def run(self): ...
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
