// The exports, in hyperfine's shapes: JSON (results[] with command, mean,
// stddev, median, user, system, min, max, times, exit_codes, parameters;
// times in seconds, so hyperfine's plotting scripts read it unchanged), a
// markdown table per comparison and CSV.
import type { SeriesRecord } from '../common';
import type { TimeUnit } from './options';
import { formatTime, fullCommand, groups, UNIT_SYMBOL, unitFor, type Report } from './report';
import { relative } from './stats';
import { describeSystem } from './system';

export interface HyperfineResult {
  command: string;
  mean: number;
  stddev: number | null;
  median: number;
  user: number | null;
  system: number | null;
  min: number;
  max: number;
  times: number[];
  exit_codes: number[];
  parameters: Record<string, string>;
}

/** What a series is, as hyperfine's `parameters`: the suite, comparison, name, role and operation, then its own. */
function parametersOf(series: SeriesRecord): Record<string, string> {
  return { suite: series.suite, group: series.group, name: series.command, role: series.role, operation: series.operation, ...series.parameters };
}

export function toJson(report: Report): string {
  const results: HyperfineResult[] = report.results.map(({ series, stats }) => ({
    command: fullCommand(series),
    mean: stats.mean,
    stddev: stats.stddev,
    median: stats.median,
    user: series.user,
    system: series.system,
    min: stats.min,
    max: stats.max,
    times: series.times,
    exit_codes: series.times.map(() => 0),
    parameters: parametersOf(series),
  }));
  const suites = report.suites.map(({ suite, lines, extra, seconds }) => ({ suite, seconds, lines, extra }));
  return `${JSON.stringify({ results, system: report.system, startedAt: report.startedAt, argv: report.argv, suites }, null, 2)}\n`;
}

const markdownCell = (text: string): string => text.replace(/\|/g, '\\|');

/** One hyperfine table per comparison, ours in bold, under the machine's name. */
export function toMarkdown(report: Report, asked: TimeUnit | null): string {
  const out: string[] = [`Machine: ${markdownCell(describeSystem(report.system))}. Run ${report.startedAt}.`, ''];
  for (const group of groups(report.results)) {
    const unit = unitFor(group, asked);
    const symbol = UNIT_SYMBOL[unit];
    const fastest = group.results.reduce((a, b) => (b.stats.mean < a.stats.mean ? b : a));
    out.push(`#### ${markdownCell(`${group.suite}: ${group.name}`)}`, '');
    out.push(`| Command | Mean [${symbol}] | Min [${symbol}] | Max [${symbol}] | Relative |`, '|:---|---:|---:|---:|---:|');
    for (const { series, stats } of group.results) {
      const name = series.role === 'ours' ? `**\`${series.command}\`**` : `\`${series.command}\``;
      const mean = `${formatTime(stats.mean, unit)}${stats.stddev === null ? '' : ` ± ${formatTime(stats.stddev, unit)}`}`;
      const rel = relative(stats, fastest.stats);
      const relText = series === fastest.series ? '1.00' : `${rel.ratio.toFixed(2)}${rel.stddev === null ? '' : ` ± ${rel.stddev.toFixed(2)}`}`;
      out.push(`| ${markdownCell(name)} | ${mean} | ${formatTime(stats.min, unit)} | ${formatTime(stats.max, unit)} | ${relText} |`);
    }
    out.push('');
  }
  return `${out.join('\n')}`;
}

function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** hyperfine's columns (command,mean,stddev,median,user,system,min,max), then parameter_<name> columns. */
export function toCsv(report: Report): string {
  const parameterNames = ['suite', 'group', 'name', 'role', 'operation'];
  for (const { series } of report.results) {
    for (const name of Object.keys(series.parameters)) if (!parameterNames.includes(name)) parameterNames.push(name);
  }
  const header = ['command', 'mean', 'stddev', 'median', 'user', 'system', 'min', 'max', ...parameterNames.map((n) => `parameter_${n}`)];
  const rows = report.results.map(({ series, stats }) => {
    const parameters = parametersOf(series);
    return [fullCommand(series), stats.mean, stats.stddev, stats.median, series.user, series.system, stats.min, stats.max, ...parameterNames.map((n) => parameters[n] ?? null)]
      .map(csvField)
      .join(',');
  });
  return `${[header.join(','), ...rows].join('\n')}\n`;
}
