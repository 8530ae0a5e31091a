// Fork-safety stress: many fork children of a parent with a large heap, each
// doing the work most likely to touch what fork() breaks in Node (GC, the
// JIT, timers, the threadpool, crypto), each under a watchdog.
//
//   node dist/test/support/stress.js <children> [--heap-mb 80] [--json]
//
// Prints a summary (or one JSON line with --json); exits 1 on any hang,
// crash or wrong result. test/stress.test.ts runs it with 300 children;
// `npm run stress` with 5000.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as mp from '../../lib/index';

// What a fork child does (its closures, its exit path): the 'fork' start method.
const ForkProcess = mp.getContext('fork').Process;

const WATCHDOG_MS = 30000;
const WRONG_RESULT_EXIT = 42;

export interface StressReport {
  children: number;
  ok: number;
  hangs: number;
  hangDetails: string[];
  crashes: { name: string; exitCode: number | null }[];
  wrongResults: number;
  parentHeapMB: number;
  durationMs: number;
  startMedianMs: number;
}

interface Options {
  children: number;
  heapMB: number;
  concurrency: number;
}

function ballastChunk(i: number): object[] {
  const chunk: object[] = [];
  for (let j = 0; j < 4096; j++) chunk.push({ i, j, s: `ballast-${i}-${j}`, a: [i, j, i + j] });
  return chunk;
}

/** Grows the V8 heap with small objects and strings until it uses `mb` MiB. */
function ballast(mb: number): object[][] {
  const chunks: object[][] = [];
  while (process.memoryUsage().heapUsed < mb * (1 << 20)) chunks.push(ballastChunk(chunks.length));
  return chunks;
}

function hotLoop(n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) acc = (acc + ((i * 2654435761) % 1000003)) % 1000000007;
  return acc;
}

/** The child's work; returns normally only if every result is right. */
async function childWork(dataFile: string, expectedHash: string, expectedLoop: number): Promise<void> {
  const fail = (what: string): never => {
    process.stderr.write(`wrong result: ${what}\n`);
    process.exit(WRONG_RESULT_EXIT);
  };
  // GC-heavy: many short-lived objects, enough for scavenges and a full GC.
  let keep: unknown[] = [];
  for (let round = 0; round < 20; round++) {
    keep = [];
    for (let i = 0; i < 20000; i++) keep.push({ round, i, text: `x${i}` });
  }
  if (keep.length !== 20000) fail('allocation');
  // JIT-hot: the same function many times, so it is optimised in the child.
  let loop = 0;
  for (let i = 0; i < 20; i++) loop = hotLoop(50000);
  if (loop !== expectedLoop) fail('hot loop');
  // A timer.
  const t0 = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 5));
  if (Date.now() - t0 < 4) fail('timer fired early');
  // An fs read through the threadpool.
  const data = await fs.promises.readFile(dataFile);
  // A crypto hash, sync and through the threadpool.
  const hash = crypto.createHash('sha256').update(data).digest('hex');
  if (hash !== expectedHash) fail('sha256');
  const key = await new Promise<Buffer>((resolve, reject) =>
    crypto.pbkdf2('secret', 'salt', 1000, 32, 'sha256', (e, k) => (e ? reject(e) : resolve(k))),
  );
  if (key.length !== 32) fail('pbkdf2');
}

/** Where a hung child is stuck, from /proc: each thread's state and wait channel. */
function describeStuck(pid: number): string {
  const read = (file: string): string => {
    try {
      return fs.readFileSync(file, 'utf8').trim();
    } catch {
      return '?';
    }
  };
  const threads = fs.existsSync(`/proc/${pid}/task`) ? fs.readdirSync(`/proc/${pid}/task`) : [];
  const parts = threads.map((tid) => {
    const state = /^State:\s+(.*)$/m.exec(read(`/proc/${pid}/task/${tid}/status`))?.[1] ?? '?';
    return `${tid} ${state} wchan=${read(`/proc/${pid}/task/${tid}/wchan`)} syscall=${read(`/proc/${pid}/task/${tid}/syscall`).split(' ')[0]}`;
  });
  return `pid ${pid}: ${parts.join('; ')}`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

export async function runStress(options: Options): Promise<StressReport> {
  const started = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-stress-'));
  const dataFile = path.join(dir, 'data.bin');
  const data = crypto.randomBytes(1 << 20);
  fs.writeFileSync(dataFile, data);
  const expectedHash = crypto.createHash('sha256').update(data).digest('hex');
  const expectedLoop = hotLoop(50000);
  const heap = ballast(options.heapMB);
  const report: StressReport = {
    children: options.children,
    ok: 0,
    hangs: 0,
    hangDetails: [],
    crashes: [],
    wrongResults: 0,
    parentHeapMB: Math.round(process.memoryUsage().heapUsed / (1 << 20)),
    durationMs: 0,
    startMedianMs: 0,
  };
  const startTimes: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < options.children) {
      const index = next++;
      // The parent's heap keeps changing between forks: replace a chunk.
      if (heap.length > 0) heap[index % heap.length] = ballastChunk(index);
      const p = new ForkProcess({
        target: childWork,
        args: [dataFile, expectedHash, expectedLoop],
      });
      const t0 = process.hrtime.bigint();
      p.start();
      startTimes.push(Number(process.hrtime.bigint() - t0) / 1e6);
      await p.join(WATCHDOG_MS);
      if (p.exitCode === null) {
        report.hangs++;
        report.hangDetails.push(describeStuck(p.pid as number));
        p.kill();
        await p.join(WATCHDOG_MS);
      } else if (p.exitCode === 0) {
        report.ok++;
      } else if (p.exitCode === WRONG_RESULT_EXIT) {
        report.wrongResults++;
      } else {
        report.crashes.push({ name: p.name, exitCode: p.exitCode });
      }
      p.close();
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  report.durationMs = Date.now() - started;
  report.startMedianMs = Number(median(startTimes).toFixed(3));
  return report;
}

function parseArgs(argv: string[]): Options & { json: boolean } {
  const children = Number(argv[0] ?? 300);
  const heapIndex = argv.indexOf('--heap-mb');
  const heapMB = heapIndex >= 0 ? Number(argv[heapIndex + 1]) : 80;
  if (!Number.isInteger(children) || children < 1) throw new TypeError(`children must be a positive integer, got ${argv[0]}`);
  if (!Number.isInteger(heapMB) || heapMB < 0) throw new TypeError(`--heap-mb must be a non-negative integer`);
  return { children, heapMB, concurrency: Math.max(2, mp.cpuCount()), json: argv.includes('--json') };
}

if (require.main === module) {
  const options = parseArgs(process.argv.slice(2));
  runStress(options).then(
    (report) => {
      const healthy = report.ok === report.children;
      if (options.json) {
        console.log(JSON.stringify(report));
      } else {
        console.log(
          `stress: ${report.children} children from a ${report.parentHeapMB} MB-heap parent in ` +
            `${(report.durationMs / 1000).toFixed(1)} s: ${report.ok} ok, ${report.hangs} hangs, ` +
            `${report.crashes.length} crashes, ${report.wrongResults} wrong results ` +
            `(median start() ${report.startMedianMs} ms)`,
        );
        for (const crash of report.crashes) console.log(`  crash: ${crash.name} exit ${crash.exitCode}`);
        for (const hang of report.hangDetails) console.log(`  hang: ${hang}`);
      }
      process.exitCode = healthy ? 0 : 1;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
