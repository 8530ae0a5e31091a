// A worker program of bench/cluster.ts's "BullMQ direct" peers: a BullMQ
// Worker on the queue, with the options multiprocessing-worker gives its
// own (lib/cluster/worker.ts: concurrency 2 per process, the same lock and
// stall settings, a name) and bench/cluster_processor.ts's task, run
// either inline in this process or, with --sandboxed, in BullMQ's
// sandboxed processor (a child process of BullMQ's child pool,
// useWorkerThreads: false). Prints "... taking tasks from queue NAME" on
// stderr once ready; SIGTERM or SIGINT close it (jobs held finish first).
// --concurrency N: jobs held at once (default 2, multiprocessing-worker's
// for --processes 1; a sandboxed Worker keeps a child per job it holds).
//
//   node dist/bench/cluster_bullmq_worker.js --redis URL --queue NAME [--sandboxed] [--concurrency N]
import * as os from 'node:os';
import * as path from 'node:path';

import { connectionOptions, loadBullmq, type Processor } from '../lib/cluster/redis';
import { numberOption, runAsMain } from './common';
import { processTask } from './cluster_processor';

/** Jobs held at once by default: multiprocessing-worker's default for --processes 1. */
const CONCURRENCY = 2;

interface SandboxOptions {
  useWorkerThreads: boolean;
}

async function main(argv: string[]): Promise<number> {
  const value = (flag: string): string => {
    const index = argv.indexOf(flag);
    if (index < 0 || argv[index + 1] === undefined) throw new RangeError(`${flag} is required`);
    return argv[index + 1];
  };
  const queue = value('--queue');
  const connection = connectionOptions(value('--redis'), '--redis');
  const sandboxed = argv.includes('--sandboxed');
  const concurrency = argv.includes('--concurrency') ? numberOption(argv, '--concurrency') : CONCURRENCY;
  const bullmq = loadBullmq('bench/cluster_bullmq_worker');
  // A sandboxed processor is a file BullMQ runs in its child processes; the typed shim takes a function only.
  const processor = (sandboxed ? path.join(__dirname, 'cluster_processor.js') : processTask) as unknown as Processor;
  const options = {
    connection,
    prefix: 'bull',
    concurrency,
    name: `bench:${sandboxed ? 'sandboxed' : 'inline'}:${os.hostname()}:${process.pid}`,
    lockDuration: 10_000,
    stalledInterval: 5000,
    maxStalledCount: 1,
    maxStartedAttempts: 2,
    ...(sandboxed ? ({ useWorkerThreads: false } satisfies SandboxOptions) : {}),
  };
  const worker = new bullmq.Worker(queue, processor, options);
  worker.on('error', () => {});
  worker.on('failed', (_job, error) => process.stderr.write(`cluster_bullmq_worker: a job failed: ${error.message}\n`));
  await worker.waitUntilReady();
  process.stderr.write(`cluster_bullmq_worker ${options.name}: taking tasks from queue ${queue}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await worker.close();
  return 0;
}

runAsMain(module, main);
