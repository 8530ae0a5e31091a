// Start a function in a new process and wait for it: start() launches
// worker() in a child, join() waits until it has finished. Python:
//   process = multiprocessing.Process(target=worker)
//   process.start()
//   process.join()
import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;

export function worker(): void {
  console.log('Виконую роботу в окремому процесі');
}

async function main(): Promise<void> {
  const workerProcess = new mp.Process({ target: worker });
  workerProcess.start(); // Запуск процесу
  await workerProcess.join(JOIN_TIMEOUT_MS); // Очікування завершення процесу
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
