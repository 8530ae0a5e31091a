// Twin of seed note 002 (Vietnamese, "Làm chủ Python Multiprocessing"), section 3 ("Mở rộng lớp
// Process"): WorkerProcess extends Process, takes its own constructor
// argument (calling super() first) and keeps it as state that run() uses in
// the child: "Worker A-1 đang xử lý công việc...".
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
