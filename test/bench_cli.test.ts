// multiprocessing-bench (bench/cli.ts): its options and statistics, its
// exports in hyperfine's shapes, and every suite run end to end in a quick
// mode, its JSON checked against the metrics the suite must report.
import * as assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

import type { SeriesRecord } from '../bench/common';
import { toCsv, toJson, toMarkdown, type HyperfineResult } from '../bench/cli/export';
import { parseOptions, SUITES, UsageError } from '../bench/cli/options';
import { resultOf, type Report } from '../bench/cli/report';
import { modifiedZScores, statistics, warnings } from '../bench/cli/stats';
import { toSvg } from '../bench/cli/svg';
import type { SystemInfo } from '../bench/cli/system';
import { findRedisServer } from '../bench/redis_server';
import { tempDir } from './support/helpers';

const run = promisify(execFile);
const CLI = path.join(__dirname, '..', 'bench', 'cli.js');
const SUITE_TIMEOUT_MS = 240_000;
const HYPERFINE_FIELDS = ['command', 'mean', 'stddev', 'median', 'user', 'system', 'min', 'max', 'times', 'exit_codes', 'parameters'];

function hasPython(): boolean {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Whether the cluster suite can measure: a redis-server, bullmq and ioredis. */
function hasCluster(): boolean {
  try {
    require.resolve('bullmq');
    require.resolve('ioredis');
  } catch {
    return false;
  }
  return findRedisServer() !== null;
}

/** The cluster suite's peers of ours in each comparison. */
const CLUSTER_PEERS = ['BullMQ direct (inline)', 'BullMQ direct (sandboxed)', 'BullMQ direct (sandboxed, concurrency 1)*', 'local Pool(2), no Redis'];

/** The SVG parsed by Python's XML parser: its bars (one per series) and curves. */
function svgShapes(file: string): { bars: string[]; curves: string[] } {
  const script = [
    'import json, sys, xml.etree.ElementTree as ET',
    "ns = {'s': 'http://www.w3.org/2000/svg'}",
    'root = ET.parse(sys.argv[1]).getroot()',
    "bars = [r.get('data-command') for r in root.iter('{http://www.w3.org/2000/svg}rect') if r.get('class') == 'bar']",
    "curves = [p.get('data-command') for p in root.iter('{http://www.w3.org/2000/svg}polyline')]",
    "print(json.dumps({'bars': bars, 'curves': curves}))",
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' })) as { bars: string[]; curves: string[] };
}

function series(group: string, command: string, times: number[], extra: Partial<SeriesRecord> = {}): SeriesRecord {
  return { suite: 'startup', group, command, role: 'peer', operation: 'start()+join()', unit: 'ms', times, user: null, system: null, parameters: {}, ...extra };
}

const system: SystemInfo = {
  hostname: 'h',
  os: 'Linux x',
  kernel: '6.0',
  arch: 'x64',
  cpus: 2,
  cpuModel: 'cpu',
  memoryGiB: 4,
  node: 'v20',
  python: '3.11',
  multiprocessing: '0.1.0',
  transparentHugepages: 'madvise',
  overcommitMemory: '0',
  loadAverage: [0, 0, 0],
};

function syntheticReport(): Report {
  const records = [
    series('small parent', 'ours: fork', [0.002, 0.0021, 0.0019], { role: 'ours', user: 0.001, system: 0.0005 }),
    series('small parent', 'python: fork', [0.0015, 0.0016, 0.0014]),
    series("fork against the parent's heap: 0 MB", 'ours: fork', [0.001, 0.0011], { role: 'ours', parameters: { heap_mb: '0' } }),
    series("fork against the parent's heap: 100 MB", 'ours: fork', [0.002, 0.0021], { role: 'ours', parameters: { heap_mb: '100' } }),
    series("fork against the parent's heap: 0 MB", 'C: fork (floor)', [0.0001, 0.00011], { role: 'floor', parameters: { heap_mb: '0' } }),
    series("fork against the parent's heap: 100 MB", 'C: fork (floor)', [0.0005, 0.00051], { role: 'floor', parameters: { heap_mb: '100' } }),
  ];
  return { system, startedAt: '2026-12-05T00:00:00Z', argv: [], suites: [{ suite: 'startup', lines: [], extra: {}, seconds: 1 }], results: records.map(resultOf) };
}

/** Checks one exported result against hyperfine's JSON shape. */
function assertHyperfineShape(result: HyperfineResult): void {
  assert.deepEqual(Object.keys(result).sort(), [...HYPERFINE_FIELDS].sort(), `fields of ${result.command}`);
  assert.equal(typeof result.command, 'string');
  assert.ok(Array.isArray(result.times) && result.times.length >= 1, `${result.command}: times`);
  for (const t of result.times) assert.ok(Number.isFinite(t) && t > 0, `${result.command}: a time of ${t} s`);
  for (const field of ['mean', 'median', 'min', 'max'] as const) assert.ok(Number.isFinite(result[field]) && result[field] > 0, `${result.command}: ${field}`);
  assert.ok(result.min <= result.median && result.median <= result.max, `${result.command}: min ≤ median ≤ max`);
  assert.ok(result.min <= result.mean && result.mean <= result.max, `${result.command}: min ≤ mean ≤ max`);
  assert.ok(result.stddev === null ? result.times.length === 1 : result.stddev >= 0);
  for (const field of ['user', 'system'] as const) assert.ok(result[field] === null || (Number.isFinite(result[field]) && (result[field] as number) >= 0));
  assert.deepEqual(result.exit_codes, result.times.map(() => 0));
  assert.equal(typeof result.parameters.suite, 'string');
  assert.equal(typeof result.parameters.group, 'string');
}

describe('multiprocessing-bench', function () {
  this.timeout(SUITE_TIMEOUT_MS * 2);

  describe('options', () => {
    it('defaults to the startup suite; all expands to every suite; hyperfine spellings parse', () => {
      assert.deepEqual(parseOptions([], false).suites, ['startup']);
      assert.deepEqual(parseOptions(['all'], false).suites, [...SUITES]);
      const o = parseOptions(['ipc', '-r', '7', '--warmup=2', '-u', 'us', '--parent-heap-mb', '500,0,100', '--concurrency', '16,1', '--export-json', 'x.json'], true);
      assert.deepEqual(o.suites, ['ipc']);
      assert.equal(o.runs, 7);
      assert.equal(o.warmup, 2);
      assert.equal(o.timeUnit, 'microsecond');
      assert.deepEqual(o.parentHeapMB, [0, 100, 500]);
      assert.deepEqual(o.concurrency, [1, 16]);
      assert.equal(o.exportJson, 'x.json');
      assert.equal(o.progress, true, 'a terminal gets the progress line');
      assert.equal(parseOptions(['--no-progress'], true).progress, false);
    });

    it('refuses bad values with an error naming the option', () => {
      const cases: Array<[string[], RegExp]> = [
        [['--runs', '0'], /--runs must be an integer >= 1/],
        [['--runs'], /--runs needs a value/],
        [['--warmup', '-1'], /--warmup needs a value/],
        [['--time-unit', 'hours'], /--time-unit must be one of/],
        [['--parent-heap-mb', '1,x'], /--parent-heap-mb takes integers >= 0/],
        [['--concurrency', '0'], /--concurrency takes integers >= 1/],
        [['--export-json'], /--export-json needs a file name/],
        [['--runs', '2', '--min-runs', '5'], /--runs \(2\) must not be below --min-runs \(5\)/],
        [['--frobnicate'], /unknown option '--frobnicate'/],
        [['fast'], /unknown suite 'fast'/],
      ];
      for (const [argv, message] of cases) assert.throws(() => parseOptions(argv, false), (e: unknown) => e instanceof UsageError && message.test(e.message), argv.join(' '));
    });

    it('the command exits 2 on bad input, saying what was wrong, and prints its usage on --help', async () => {
      const failure = await run(process.execPath, [CLI, '--runs', 'many'], { timeout: 30000 }).then(
        () => assert.fail('expected exit 2'),
        (e: { code: number; stderr: string }) => e,
      );
      assert.equal(failure.code, 2);
      assert.match(failure.stderr, /--runs must be an integer >= 1; got 'many'/);
      const help = await run(process.execPath, [CLI, '--help'], { timeout: 30000 });
      assert.match(help.stdout, /Usage: multiprocessing-bench \[SUITE\] \[OPTIONS\]/);
      for (const option of ['--warmup', '--runs', '--min-runs', '--time-unit', '--export-json', '--export-markdown', '--export-csv', '--parent-heap-mb', '--concurrency', '--svg']) {
        assert.ok(help.stdout.includes(option), `--help mentions ${option}`);
      }
    });
  });

  describe('statistics', () => {
    it("computes hyperfine's figures: mean, sample stddev, median, min, max", () => {
      const s = statistics([3, 1, 2, 4]);
      assert.equal(s.mean, 2.5);
      assert.equal(s.median, 2.5);
      assert.equal(s.min, 1);
      assert.equal(s.max, 4);
      assert.ok(Math.abs((s.stddev as number) - Math.sqrt(5 / 3)) < 1e-12);
      assert.equal(statistics([5]).stddev, null);
    });

    it('warns of a slow first run, and of outliers elsewhere, by the modified Z-score', () => {
      const steady = [1.0, 1.01, 0.99, 1.02, 0.98, 1.0, 1.01];
      assert.deepEqual(warnings(steady), []);
      assert.deepEqual(warnings([5, ...steady]), ['slow-first-run']);
      assert.deepEqual(warnings([...steady, 5]), ['outliers']);
      assert.ok(modifiedZScores([...steady, 5]).at(-1)! > 14);
    });
  });

  describe('exports', () => {
    it("JSON in hyperfine's shape (times in seconds), with the machine recorded", () => {
      const parsed = JSON.parse(toJson(syntheticReport())) as { results: HyperfineResult[]; system: SystemInfo };
      assert.equal(parsed.results.length, 6);
      for (const result of parsed.results) assertHyperfineShape(result);
      assert.equal(parsed.results[0].command, 'startup / small parent / ours: fork');
      assert.equal(parsed.results[0].user, 0.001);
      assert.equal(parsed.results[0].mean, 0.002);
      for (const key of ['kernel', 'node', 'python', 'cpus', 'transparentHugepages', 'overcommitMemory']) assert.ok(key in parsed.system, key);
    });

    it('markdown: one hyperfine table per comparison, the fastest at 1.00', () => {
      const md = toMarkdown(syntheticReport(), null);
      assert.match(md, /^Machine: cpu, 2 CPUs/);
      assert.match(md, /#### startup: small parent\n\n\| Command \| Mean \[ms\] \| Min \[ms\] \| Max \[ms\] \| Relative \|\n\|:---\|---:\|---:\|---:\|---:\|/);
      assert.match(md, /\| \*\*`ours: fork`\*\* \| 2\.000 ± 0\.100 \| 1\.900 \| 2\.100 \| 1\.33 ± 0\.11 \|/);
      assert.match(md, /\| `python: fork` \| 1\.500 ± 0\.100 \| 1\.400 \| 1\.600 \| 1\.00 \|/);
      assert.equal(md.match(/^#### /gm)?.length, 3);
    });

    it("CSV: hyperfine's columns, then the parameters", () => {
      const lines = toCsv(syntheticReport()).trim().split('\n');
      assert.equal(lines[0], 'command,mean,stddev,median,user,system,min,max,parameter_suite,parameter_group,parameter_name,parameter_role,parameter_operation,parameter_heap_mb');
      assert.equal(lines.length, 7);
      assert.match(lines[4], /^startup \/ fork against the parent's heap: 100 MB \/ ours: fork,0\.002/);
      assert.match(lines[1], /^startup \/ small parent \/ ours: fork,0\.002,0\.0000999\d*,0\.002,0\.001,0\.0005,0\.0019,0\.0021,startup,small parent,ours: fork,ours,start\(\)\+join\(\),$/);
    });

    it('SVG: well-formed XML with one bar per series and one heap curve per command', () => {
      const dir = tempDir();
      try {
        const file = path.join(dir, 'chart.svg');
        fs.writeFileSync(file, toSvg(syntheticReport()));
        const { bars, curves } = svgShapes(file);
        assert.equal(bars.length, 6);
        assert.deepEqual(curves.sort(), ['C: fork (floor)', 'ours: fork']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('every suite, quick, end to end', () => {
    const python = hasPython();
    // Per suite: comparisons that must be there, each with the commands it must hold (Python's only where python3 is).
    const expected: Record<(typeof SUITES)[number], Array<{ group: RegExp; commands: string[]; pythonCommands?: string[] }>> = {
      startup: [
        {
          group: /^start\(\)\+join\(\) of a child doing nothing, small parent$/,
          commands: ['ours: fork', 'ours: forkserver', 'ours: spawn', 'raw fork() of this Node', 'child_process.fork', 'worker_threads Worker', "node -e ''"],
          pythonCommands: ['python: fork', 'python: forkserver', 'python: spawn'],
        },
        { group: /^fork against the parent's heap: 0 MB$/, commands: ['ours: fork', 'raw fork() of this Node'], pythonCommands: ['python: fork'] },
        { group: /^fork against the parent's heap: 20 MB$/, commands: ['ours: fork', 'raw fork() of this Node'], pythonCommands: ['python: fork'] },
        { group: /^4 starts at once/, commands: ['ours: fork', 'ours: forkserver', 'ours: spawn'], pythonCommands: ['python: forkserver'] },
      ],
      ipc: [
        { group: /^Pipe round trip$/, commands: ['ours', 'child_process.fork IPC', 'worker_threads MessagePort'], pythonCommands: ['Python Pipe (fork)'] },
        { group: /^Queue 1→1 producer→consumer$/, commands: ['ours'], pythonCommands: ['Python Queue (fork)'] },
      ],
      sync: [
        { group: /^Lock acquire\+release, uncontended$/, commands: ['ours: Lock acquireSync()+release()'], pythonCommands: ['python: multiprocessing Lock'] },
        { group: /^counter under one Lock/, commands: ['ours: contended counter'] },
      ],
      sharedmem: [
        { group: /^attach by name \+ close$/, commands: ['ours'], pythonCommands: ['python: multiprocessing'] },
        { group: /^fill 64 MiB of shared memory$/, commands: ['ours'] },
      ],
      pool: [
        { group: /^apply\(noop\) round trip, fork$/, commands: ['ours', 'piscina run() (threads)', "workerpool exec() ('process')"], pythonCommands: ['Python pool.apply (fork)'] },
        { group: /^map\(sqr, 200000 items\)/, commands: ['ours'] },
      ],
      manager: [
        { group: /^proxy dict set\+get$/, commands: ['ours'], pythonCommands: ["Python d['k'] = i; d['k']"] },
        { group: /^Manager start to first call \(forkserver/, commands: ['ours'] },
      ],
      cluster: [
        { group: /^map\(sqr, 20000 items\) via Redis, default chunksize \(2500\)$/, commands: ['ours', ...CLUSTER_PEERS] },
        { group: /^map\(sqr, 20000 items\) via Redis, chunksize 1000$/, commands: ['ours', ...CLUSTER_PEERS] },
        { group: /^apply\(noop\) round trip via Redis$/, commands: ['ours', ...CLUSTER_PEERS] },
      ],
    };

    for (const suite of SUITES) {
      it(`${suite}: exits 0; its JSON, markdown, CSV and SVG hold every expected series`, async function () {
        // The cluster suite needs a redis-server to start, and bullmq and ioredis (it says so and measures nothing without them).
        if (suite === 'cluster' && !hasCluster()) this.skip();
        const dir = tempDir();
        const shmBefore = new Set(fs.existsSync('/dev/shm') ? fs.readdirSync('/dev/shm') : []);
        try {
          const out = (ext: string): string => path.join(dir, `out.${ext}`);
          const extra = suite === 'startup' ? ['--concurrency', '4', '--parent-heap-mb', '0,20', '--warmup', '1', '--progress'] : [];
          const args = [CLI, suite, '--quick', '--runs', '2', '--export-json', out('json'), '--export-markdown', out('md'), '--export-csv', out('csv'), '--svg', out('svg'), ...extra];
          const { stdout, stderr } = await run(process.execPath, args, { timeout: SUITE_TIMEOUT_MS, maxBuffer: 1 << 24 });
          assert.match(stdout, new RegExp(`^multiprocessing-bench ${suite} \\(quick\\) on `));
          if (suite === 'startup') assert.match(stderr, /\r\x1b\[K\[startup \d+ s\] \d+\/\d+ /, 'the progress line');

          const json = JSON.parse(fs.readFileSync(out('json'), 'utf8')) as { results: HyperfineResult[]; system: SystemInfo };
          assert.ok(json.results.length > 0);
          for (const result of json.results) {
            assertHyperfineShape(result);
            assert.equal(result.parameters.suite, suite);
          }
          for (const { group, commands, pythonCommands } of expected[suite]) {
            const inGroup = json.results.filter((r) => group.test(r.parameters.group));
            assert.ok(inGroup.length > 0, `${suite}: no comparison matching ${group}; have ${[...new Set(json.results.map((r) => r.parameters.group))].join(' | ')}`);
            const names = inGroup.map((r) => r.parameters.name);
            for (const command of [...commands, ...(python ? (pythonCommands ?? []) : [])]) assert.ok(names.includes(command), `${suite}: ${group} lacks '${command}' (has ${names.join(', ')})`);
            assert.ok(inGroup.some((r) => r.parameters.role === 'ours'), `${suite}: ${group} has ours`);
          }
          assert.equal(json.system.node, process.version);
          if (suite === 'startup') {
            const latency = json.results.filter((r) => r.parameters.group.endsWith('small parent'));
            for (const r of latency) assert.equal(r.times.length, 2, `--runs 2 gives ${r.parameters.name} exactly 2 times`);
          }

          const md = fs.readFileSync(out('md'), 'utf8');
          assert.equal(md.match(/^\| Command \| Mean \[/gm)?.length, new Set(json.results.map((r) => r.parameters.group)).size, 'one markdown table per comparison');
          const csv = fs.readFileSync(out('csv'), 'utf8').trim().split('\n');
          assert.match(csv[0], /^command,mean,stddev,median,user,system,min,max,parameter_suite,/);
          assert.equal(csv.length, json.results.length + 1);
          const { bars, curves } = svgShapes(out('svg'));
          assert.equal(bars.length, json.results.length, 'a bar per series');
          if (suite === 'startup') assert.ok(curves.includes('ours: fork'), 'the heap curve');
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
        const leaked = (fs.existsSync('/dev/shm') ? fs.readdirSync('/dev/shm') : []).filter((name) => !shmBefore.has(name) && /^(sem\.mp|psm_|mp-)/.test(name));
        assert.deepEqual(leaked, [], `${suite} left /dev/shm entries`);
      });
    }
  });
});
