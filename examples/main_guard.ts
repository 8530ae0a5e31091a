// Why process-starting code goes behind the main guard. A spawn or
// forkserver child imports the program's main module (not as main) to find
// its target, so the module's top level runs again in the child, and only
// the guarded part does not. A start() reached while the child is still
// importing (a module without the guard) throws a ProcessError about the
// "bootstrapping phase" instead of starting processes without end. Python:
//   if __name__ == '__main__':
//       p = multiprocessing.Process(target=hello); p.start(); p.join()
import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;

// The top level: runs in the main process, and again in the spawn child.
console.log(`[${mp.currentProcess().name}] loading main_guard (require.main === module: ${require.main === module})`);

export function hello(): void {
  console.log(`[${mp.currentProcess().name}] hello() runs`);
}

// What an unguarded start() at the top level would meet in the child (run
// in the child only, so this demonstration cannot start the main's children):
if (mp.parentProcess() !== null) {
  try {
    new mp.Process({ target: hello }).start();
  } catch (error) {
    const firstSentence = (error as Error).message.split('. ')[0];
    console.log(`[${mp.currentProcess().name}] an unguarded start(): ${(error as Error).name}: ${firstSentence}`);
  }
}

async function main(): Promise<void> {
  const p = new (mp.getContext('spawn').Process)({ target: hello });
  p.start();
  await p.join(JOIN_TIMEOUT_MS);
  console.log(`[${mp.currentProcess().name}] ${p.name} exited with code ${p.exitCode}`);
}

// The main guard: true only where node was asked to run this file.
if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
