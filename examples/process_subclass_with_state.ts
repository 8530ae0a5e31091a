// A Process subclass with state of its own: the constructor argument is
// kept in a field, and the field reaches run() in the child (with spawn and
// forkserver an exported subclass's own fields are serialized). Python:
//   class WorkerProcess(multiprocessing.Process):
//       def __init__(self, name):
//           super().__init__()
//           self.worker_name = name
//       def run(self): print(f"Worker {self.worker_name} ...")
import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;

export class WorkerProcess extends mp.Process {
  readonly workerName: string;

  constructor(name: string) {
    super();
    this.workerName = name;
  }

  override run(): void {
    console.log(`Worker ${this.workerName} đang xử lý công việc...`);
  }
}

async function main(): Promise<void> {
  const worker = new WorkerProcess('A-1');
  worker.start();
  await worker.join(JOIN_TIMEOUT_MS);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
