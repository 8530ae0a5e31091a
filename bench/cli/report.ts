// A run's results: each series with its statistics, grouped by the
// comparison it belongs to, and the units they are shown in.
import type { SeriesRecord } from '../common';
import type { TimeUnit } from './options';
import { statistics, warnings, type Statistics, type Warning } from './stats';
import type { SystemInfo } from './system';

export interface Result {
  series: SeriesRecord;
  stats: Statistics;
  warnings: Warning[];
}

export interface SuiteOutput {
  suite: string;
  /** The suite's own tables, notes and verdicts. */
  lines: string[];
  extra: Record<string, unknown>;
  seconds: number;
}

export interface Report {
  system: SystemInfo;
  startedAt: string;
  argv: string[];
  suites: SuiteOutput[];
  results: Result[];
}

export function resultOf(series: SeriesRecord): Result {
  return { series, stats: statistics(series.times), warnings: warnings(series.times) };
}

export interface Group {
  suite: string;
  name: string;
  results: Result[];
}

const ROLE_ORDER: Record<Result['series']['role'], number> = { ours: 0, peer: 1, floor: 2 };

/** Ours first, then the peers, then the C floors; stable otherwise. */
export function byRole(a: Result, b: Result): number {
  return ROLE_ORDER[a.series.role] - ROLE_ORDER[b.series.role];
}

/** Results by comparison, in the order they were measured; within one, ours first, then the peers, then the C floors. */
export function groups(results: readonly Result[]): Group[] {
  const byKey = new Map<string, Group>();
  for (const result of results) {
    const key = `${result.series.suite}\u0000${result.series.group}`;
    let group = byKey.get(key);
    if (group === undefined) {
      group = { suite: result.series.suite, name: result.series.group, results: [] };
      byKey.set(key, group);
    }
    group.results.push(result);
  }
  const all = [...byKey.values()];
  for (const group of all) group.results.sort(byRole);
  return all;
}

export const UNIT_SECONDS: Record<TimeUnit, number> = { second: 1, millisecond: 1e-3, microsecond: 1e-6, nanosecond: 1e-9 };
export const UNIT_SYMBOL: Record<TimeUnit, string> = { second: 's', millisecond: 'ms', microsecond: 'µs', nanosecond: 'ns' };

/**
 * The unit a group is shown in: the one asked for, else the largest in
 * which the median of its means is at least 1 (a C floor 50 times faster
 * than the rest does not turn every figure into thousands).
 */
export function unitFor(group: Group, asked: TimeUnit | null): TimeUnit {
  if (asked !== null) return asked;
  const means = group.results.map((r) => r.stats.mean).sort((a, b) => a - b);
  const middle = means[means.length >> 1];
  for (const unit of ['second', 'millisecond', 'microsecond'] as const) if (middle >= UNIT_SECONDS[unit]) return unit;
  return 'nanosecond';
}

/** A time in `unit`, with three significant digits at least and no more than needed. */
export function formatTime(seconds: number, unit: TimeUnit): string {
  const value = seconds / UNIT_SECONDS[unit];
  const magnitude = Math.abs(value);
  const digits = magnitude >= 100 ? 1 : magnitude >= 10 ? 2 : 3;
  return value.toFixed(digits);
}

/** The full name a series has in the JSON and CSV exports: unique across a run. */
export function fullCommand(series: SeriesRecord): string {
  return `${series.suite} / ${series.group} / ${series.command}`;
}
