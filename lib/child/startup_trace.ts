// Clock readings along a child's way from start() to its exit, for the
// phase table of bench/startup. Off (one environment read at load) unless
// MULTIPROCESSING_STARTUP_TRACE names a file; each child then appends one
// JSON line to it just before it exits:
//   { pid, method, fork: native.forkClock() | null, marks: { phase: ms }, faults }
// (faults: the minor page faults the child took, mostly copy-on-write ones).
// All readings are CLOCK_MONOTONIC milliseconds, the clock of
// process.hrtime(), so the measuring parent can subtract its own.
import * as fs from 'node:fs';

import { native } from '../native';
import { monotonicMs } from '../util';

const traceFile = process.env.MULTIPROCESSING_STARTUP_TRACE;
let marks: Record<string, number> = {};
// Opened once: fork children inherit it, and their last write before _exit is one syscall.
let traceFd: number | null = null;

if (traceFile !== undefined) traceFd = fs.openSync(traceFile, 'a');

/** Notes the time `phase` was reached in this process. */
export function markStartup(phase: string): void {
  if (traceFile !== undefined) marks[phase] = monotonicMs();
}

/** A fork child starts with no marks of its parent's. */
export function resetStartupMarks(): void {
  if (traceFile !== undefined) marks = {};
}

/** Appends this process's readings to the trace file (a single write, so lines of concurrent children do not mix). */
export function writeStartupTrace(method: string): void {
  if (traceFile === undefined) return;
  const fork = method === 'spawn' ? null : native.forkClock();
  // When Node started in this process (a spawn child): the time before is exec and Node's own boot.
  if (method === 'spawn') marks.process = monotonicMs() - process.uptime() * 1000;
  const faults = process.resourceUsage().minorPageFault;
  try {
    traceFd ??= fs.openSync(traceFile, 'a');
    const head = `{"pid":${process.pid},"method":"${method}","fork":${JSON.stringify(fork)},"faults":${faults},"marks":`;
    marks.exit = monotonicMs();
    fs.writeSync(traceFd, `${head}${JSON.stringify(marks)}}\n`);
  } catch {
    // A trace that cannot be written must not change how the child exits.
  }
}
