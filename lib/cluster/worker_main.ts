#!/usr/bin/env node
// multiprocessing-worker: a cluster worker on the command line, a local
// Pool fed by a BullMQ queue until SIGTERM or SIGINT (which let the jobs it
// holds finish). `multiprocessing-worker --help` lists the options.
import { logToStderr } from '../logging';
import { MissingPackageError } from './optional';
import { startWorker, type WorkerOptions } from './worker';

export const USAGE = `Usage: multiprocessing-worker --redis URL --queue NAME [options]

Runs the tasks of the multiprocessing Pools whose backend is
mp.cluster.bullmq({ connection: URL, queue: NAME }), in a local Pool.

  --redis URL              redis://[user:password@]host:port[/db] or rediss://… (required)
  --queue NAME             the queue (required)
  --processes N            local processes, each running one task at a time (default: the CPUs)
  --prefix P               BullMQ's key prefix (default: bull)
  --root DIR               where the tasks' module paths start (default: the current directory)
  --lock-duration MS       a job's lock without heartbeat, before another worker may take it (default 10000)
  --stalled-interval MS    how often jobs of dead workers are looked for (default 5000)
  --start-method M         how its processes start: forkserver (default) or spawn
  -h, --help               this text

SIGTERM or SIGINT: finish the tasks in hand, then exit; a second one: stop now
(the tasks in hand are run again elsewhere).
`;

export class UsageError extends Error {}

const NUMERIC: Record<string, keyof WorkerOptions> = {
  '--processes': 'processes',
  '--lock-duration': 'lockDuration',
  '--stalled-interval': 'stalledInterval',
};

export function parseWorkerArguments(argv: readonly string[]): WorkerOptions | 'help' {
  const options: Partial<Record<keyof WorkerOptions, unknown>> = {};
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i];
    let value: string | undefined;
    const equals = flag.indexOf('=');
    if (flag.startsWith('--') && equals > 0) {
      value = flag.slice(equals + 1);
      flag = flag.slice(0, equals);
    }
    if (flag === '-h' || flag === '--help') return 'help';
    const take = (): string => {
      if (value !== undefined) return value;
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`option ${flag} needs a value`);
      return next;
    };
    if (flag === '--redis') options.connection = take();
    else if (flag === '--queue') options.queue = take();
    else if (flag === '--prefix') options.prefix = take();
    else if (flag === '--root') options.root = take();
    else if (flag === '--start-method') {
      const method = take();
      if (method !== 'spawn' && method !== 'forkserver') {
        throw new UsageError(`option --start-method must be forkserver or spawn; received ${method}`);
      }
      options.startMethod = method;
    }
    else if (flag in NUMERIC) {
      const text = take();
      const number = Number(text);
      if (!/^\d+$/.test(text) || number < 1) throw new UsageError(`option ${flag} must be a positive integer; received ${text}`);
      options[NUMERIC[flag]] = number;
    } else throw new UsageError(`unknown option ${flag}`);
  }
  if (options.connection === undefined) throw new UsageError('option --redis is required');
  if (options.queue === undefined) throw new UsageError('option --queue is required');
  return options as WorkerOptions;
}

async function main(argv: string[]): Promise<number> {
  let options: WorkerOptions | 'help';
  try {
    options = parseWorkerArguments(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`multiprocessing-worker: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  // Warnings (Redis out of reach) and errors go to stderr as `[WARNING/MainProcess] …`.
  logToStderr('WARNING');
  let worker;
  try {
    worker = await startWorker(options);
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) {
      process.stderr.write(`multiprocessing-worker: ${error.message}\n`);
      return 2;
    }
    if (error instanceof MissingPackageError) {
      process.stderr.write(`multiprocessing-worker: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  process.stderr.write(`multiprocessing-worker ${worker.name}: taking tasks from queue ${options.queue}\n`);
  const running = worker;
  let signals = 0;
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      if (++signals === 1) {
        process.stderr.write(`multiprocessing-worker ${running.name}: finishing the tasks it holds (signal again to stop now)\n`);
        resolve();
      } else {
        process.stderr.write(`multiprocessing-worker ${running.name}: stopping its processes now\n`);
        void running.terminate();
      }
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await worker.close();
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`multiprocessing-worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      // Whatever it left open (a connection, a process) must not keep a failed worker running.
      process.exit(1);
    },
  );
}
