// Long-run stress: start / message / join lifecycles under every start
// method, sampling this process's open descriptors and RSS, to show that
// nothing grows with the number of lifecycles.
//
//   node dist/test/support/lifecycles.js [total=10000] [--json]
//
// The mix is 60% fork, 30% forkserver, 10% spawn; one lifecycle in four
// leaves its Process unclosed (the collector must give its descriptor
// back). Slopes are least-squares fits over the second half of the run
// (after warm-up), per 1,000 lifecycles. Exits 1 on a wrong answer or a
// slope above the limits below.
import * as fs from 'node:fs';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

import * as mp from '../../lib/index';
import { echoDoubled } from '../fixtures/lifecycle_targets';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const FD_SLOPE_LIMIT = 0.5; // descriptors per 1,000 lifecycles
const RSS_SLOPE_LIMIT_KB = 1024; // KiB per 1,000 lifecycles
const SAMPLES = 40;
const JOIN_MS = 60000;

interface Sample {
  lifecycles: number;
  fds: number;
  rssKB: number;
}

function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function lifecycle(method: mp.StartMethod, n: number, close: boolean): Promise<void> {
  const ctx = mp.getContext(method);
  const [here, there] = ctx.Pipe();
  const requests = new ctx.Queue<number>();
  const replies = new ctx.Queue<number>();
  try {
    const child = new ctx.Process({ target: echoDoubled, args: [there, requests, replies] });
    child.start();
    here.send(n);
    void requests.put(n + 1);
    const [viaPipe, viaQueue] = await Promise.all([here.recv(), replies.get({ timeout: JOIN_MS })]);
    if (viaPipe !== n * 2 || viaQueue !== (n + 1) * 2) throw new Error(`wrong answers ${String(viaPipe)}, ${String(viaQueue)} for ${n}`);
    await child.join(JOIN_MS);
    if (child.exitCode !== 0) throw new Error(`a ${method} child exited with ${child.exitCode}`);
    if (close) child.close();
  } finally {
    here.close();
    there.close();
    requests.close();
    replies.close();
  }
}

function methodFor(i: number): mp.StartMethod {
  const slot = i % 10;
  return slot < 6 ? 'fork' : slot < 9 ? 'forkserver' : 'spawn';
}

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

async function main(): Promise<void> {
  const total = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 10000);
  const json = process.argv.includes('--json');
  const every = Math.max(1, Math.floor(total / SAMPLES));
  const samples: Sample[] = [];
  const started = Date.now();
  for (let i = 0; i < total; i++) {
    await lifecycle(methodFor(i), i, i % 4 !== 3);
    if ((i + 1) % every === 0) {
      await settle();
      samples.push({ lifecycles: i + 1, fds: openFds(), rssKB: Math.round(process.memoryUsage().rss / 1024) });
    }
  }
  const half = samples.slice(Math.floor(samples.length / 2));
  const fdSlope = slope(half.map((s) => [s.lifecycles / 1000, s.fds]));
  const rssSlope = slope(half.map((s) => [s.lifecycles / 1000, s.rssKB]));
  const report = {
    lifecycles: total,
    mix: { fork: 0.6, forkserver: 0.3, spawn: 0.1 },
    durationS: Math.round((Date.now() - started) / 1000),
    fdsFirst: samples[0]?.fds,
    fdsLast: samples[samples.length - 1]?.fds,
    rssFirstMB: Math.round((samples[0]?.rssKB ?? 0) / 1024),
    rssLastMB: Math.round((samples[samples.length - 1]?.rssKB ?? 0) / 1024),
    fdSlopePer1000: Number(fdSlope.toFixed(3)),
    rssSlopeKBPer1000: Number(rssSlope.toFixed(1)),
    limits: { fdSlopePer1000: FD_SLOPE_LIMIT, rssSlopeKBPer1000: RSS_SLOPE_LIMIT_KB },
    samples,
  };
  if (json) console.log(JSON.stringify(report));
  else {
    const { samples: _samples, ...summary } = report;
    console.log(summary);
  }
  if (fdSlope > FD_SLOPE_LIMIT || rssSlope > RSS_SLOPE_LIMIT_KB) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
