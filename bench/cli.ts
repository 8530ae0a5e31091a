#!/usr/bin/env node
// multiprocessing-bench: the command line over every benchmark suite
// (bench/<suite>.ts). It runs ours and the peers in one run, alternating
// them, shows each comparison as hyperfine does and exports the series in
// hyperfine's shapes (--export-json/-markdown/-csv) and as a chart (--svg).
// `multiprocessing-bench --help` lists the options (bench/cli/options.ts).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

import { runAsMain, type SeriesRecord } from './common';
import { toCsv, toJson, toMarkdown } from './cli/export';
import { parseOptions, USAGE, UsageError, type CliOptions, type Suite } from './cli/options';
import { ProgressLine } from './cli/progress';
import { formatTime, groups, resultOf, UNIT_SYMBOL, unitFor, type Report, type SuiteOutput } from './cli/report';
import { relative, WARNING_TEXT } from './cli/stats';
import { toSvg } from './cli/svg';
import { describeSystem, systemInfo } from './cli/system';
import { startupSuite, type StartupPlan } from './startup';

export function startupPlan(options: CliOptions): StartupPlan {
  const runs = options.runs ?? Math.max(options.minRuns ?? 0, options.quick ? 20 : 200);
  return {
    runs,
    warmup: Math.max(1, options.warmup ?? 3),
    rounds: Math.min(runs, options.quick ? 2 : 4),
    latencyHeapsMB: options.quick ? [0] : [0, 80],
    scanHeapsMB: options.parentHeapMB ?? (options.quick ? [] : [0, 100, 500]),
    concurrency: options.concurrency ?? (options.quick ? [16] : [1, 16]),
    batchesPerRate: options.quick ? 2 : 8,
    hundred: !options.quick,
    phases: options.phases ?? !options.quick,
    peers: options.peers,
  };
}

/** The arguments another suite's orchestrator takes for these options. */
export function suiteArgs(options: CliOptions, seriesFile: string): string[] {
  const args = ['--no-save', '--series-out', seriesFile];
  if (options.quick) args.push('--quick');
  // The suite turns runs into rounds of its own measuring processes (common.ts, roundsOption).
  if (options.runs !== null) args.push('--runs', String(options.runs));
  if (options.minRuns !== null) args.push('--min-runs', String(options.minRuns));
  if (options.warmup !== null) args.push('--warmup', String(options.warmup));
  return args;
}

/** Runs bench/<suite>.js as a child: its own tables pass through, its progress marks feed the progress line. */
async function runChildSuite(suite: Suite, options: CliOptions, progress: ProgressLine): Promise<{ series: SeriesRecord[]; lines: string[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-bench-'));
  const seriesFile = path.join(dir, 'series.json');
  try {
    const child = spawn(process.execPath, [path.join(__dirname, `${suite}.js`), ...suiteArgs(options, seriesFile)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MULTIPROCESSING_BENCH_PROGRESS: '1' },
    });
    const lines: string[] = [];
    const stdout = createInterface({ input: child.stdout });
    stdout.on('line', (line) => {
      lines.push(line);
      progress.print(line);
    });
    const stderr = createInterface({ input: child.stderr });
    stderr.on('line', (line) => {
      if (line.startsWith('\u0001progress ')) progress.update(line.slice('\u0001progress '.length));
      else {
        progress.clear();
        process.stderr.write(`${line}\n`);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    progress.clear();
    if (code !== 0) throw new Error(`the ${suite} suite failed (exit code ${code})`);
    const parsed = JSON.parse(fs.readFileSync(seriesFile, 'utf8')) as { series: SeriesRecord[] };
    return { series: parsed.series, lines };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

/** A suite's comparisons as hyperfine shows a benchmark: mean ± σ, median, range, CPU, runs, relative to the fastest. */
function printGroups(report: Report, suite: string, options: CliOptions, print: (line: string) => void): void {
  for (const group of groups(report.results.filter((r) => r.series.suite === suite))) {
    const unit = unitFor(group, options.timeUnit);
    const symbol = UNIT_SYMBOL[unit];
    const fastest = group.results.reduce((a, b) => (b.stats.mean < a.stats.mean ? b : a));
    const rows = group.results.map(({ series, stats }) => {
      const rel = relative(stats, fastest.stats);
      return [
        `${series.role === 'ours' ? '▶ ' : '  '}${series.command}`,
        `${formatTime(stats.mean, unit)} ± ${stats.stddev === null ? '—' : formatTime(stats.stddev, unit)}`,
        formatTime(stats.median, unit),
        `${formatTime(stats.min, unit)} … ${formatTime(stats.max, unit)}`,
        series.user === null ? '—' : formatTime(series.user, unit),
        series.system === null ? '—' : formatTime(series.system, unit),
        String(series.times.length),
        series === fastest.series ? '1.00' : `${rel.ratio.toFixed(2)}${rel.stddev === null ? '' : ` ± ${rel.stddev.toFixed(2)}`}`,
      ];
    });
    const header = ['command', `mean ± σ [${symbol}]`, 'median', 'min … max', 'user', 'system', 'runs', 'relative'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    print('');
    print(`${suite}: ${group.name} (per ${group.results[0].series.operation})`);
    print(`  ${header.map((h, i) => pad(h, widths[i], i > 0)).join('  ')}`);
    for (const row of rows) print(`  ${row.map((cell, i) => pad(cell, widths[i], i > 0)).join('  ')}`);
    for (const { series, warnings } of group.results) {
      for (const warning of warnings) print(`  Warning (${series.command}): ${WARNING_TEXT[warning]}`);
    }
  }
}

function write(file: string, text: string): void {
  if (file === '-') {
    process.stdout.write(text);
    return;
  }
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, text);
}

export async function main(argv: string[]): Promise<number> {
  let options: CliOptions;
  try {
    options = parseOptions(argv, process.stderr.isTTY === true);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`multiprocessing-bench: ${error.message}\n(see multiprocessing-bench --help)\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const system = await systemInfo();
  if (options.version) {
    process.stdout.write(`multiprocessing-bench ${system.multiprocessing}\n`);
    return 0;
  }
  const report: Report = { system, startedAt: new Date().toISOString(), argv, suites: [], results: [] };
  const progress = new ProgressLine(options.progress);
  const print = (line: string): void => progress.print(line);
  print(`multiprocessing-bench ${options.suites.join(', ')}${options.quick ? ' (quick)' : ''} on ${describeSystem(system)}`);
  let failed = 0;
  for (const suite of options.suites) {
    progress.suite(suite);
    const t0 = Date.now();
    let output: SuiteOutput;
    try {
      if (suite === 'startup') {
        const result = await startupSuite(startupPlan(options), (label) => progress.update(label));
        report.results.push(...result.series.map(resultOf));
        output = { suite, lines: result.lines, extra: result.extra, seconds: 0 };
        for (const line of result.lines) print(line);
      } else {
        print('');
        const result = await runChildSuite(suite, options, progress);
        report.results.push(...result.series.map(resultOf));
        output = { suite, lines: result.lines, extra: {}, seconds: 0 };
      }
    } catch (error) {
      progress.clear();
      failed++;
      process.stderr.write(`multiprocessing-bench: ${suite}: ${error instanceof Error ? error.message : String(error)}\n`);
      continue;
    }
    output.seconds = Math.round((Date.now() - t0) / 100) / 10;
    report.suites.push(output);
    printGroups(report, suite, options, print);
    print(`(${suite}: ${output.seconds} s)`);
  }
  progress.clear();
  if (options.exportJson !== null) write(options.exportJson, toJson(report));
  if (options.exportMarkdown !== null) write(options.exportMarkdown, toMarkdown(report, options.timeUnit));
  if (options.exportCsv !== null) write(options.exportCsv, toCsv(report));
  if (options.svg !== null) write(options.svg, toSvg(report));
  const written = [options.exportJson, options.exportMarkdown, options.exportCsv, options.svg].filter((f): f is string => f !== null && f !== '-');
  if (written.length > 0) print(`\nwritten: ${written.join(', ')}`);
  return failed === 0 ? 0 : 1;
}

// Guarded: spawn and forkserver children of the suites import bench modules.
runAsMain(module, main);
