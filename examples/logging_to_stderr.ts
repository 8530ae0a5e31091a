// The package's logger, as Python's multiprocessing.log_to_stderr():
// logToStderr(level) prints records as `[LEVEL/ProcessName] message` on
// stderr, children included (they inherit the level whatever the start
// method), together with the package's own records of a child's life
// ("child process calling self.run()", "process exiting with exitcode 0").
// Messages take printf-style arguments; records under the level are
// dropped. Python:
//   logger = multiprocessing.log_to_stderr(logging.INFO)
//   logger.info('squaring %d', n)
import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;

export function work(n: number): void {
  const logger = mp.getLogger();
  logger.info('squaring %d: %d', n, n * n);
  logger.debug('not shown: DEBUG is under INFO');
}

async function main(): Promise<void> {
  const logger = mp.logToStderr(mp.INFO);
  logger.info('starting a child');
  const p = new mp.Process({ target: work, args: [7], name: 'squarer' });
  p.start();
  await p.join(JOIN_TIMEOUT_MS);
  logger.setLevel(mp.WARNING);
  logger.info('not shown: INFO is now under the level');
  logger.warning('%s exited with code %d', p.name, p.exitCode);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
