// Per-process state: which Process object this process is, its parent, the
// children it started, and the counter behind names like 'Process-3'. A
// fork child resets all of it (lib/child/fork_child.ts).
import type { Process, ParentProcess, StartMethod } from './process';

export interface ProcessState {
  current: Process;
  parent: ParentProcess | null;
  children: Set<Process>;
  counter: number;
}

let state: ProcessState | undefined;

export function processState(): ProcessState {
  if (state === undefined) throw new Error('multiprocessing: process state used before initialisation');
  return state;
}

export function setProcessState(next: ProcessState): void {
  state = next;
}

// A process of the package's own that is no Process (the resource tracker) names itself.
let unmanagedName = 'MainProcess';

/** currentProcess().name, for log records; safe before process.ts has made the state. */
export function currentProcessName(): string {
  return state === undefined ? unmanagedName : state.current.name;
}

export function nameUnmanagedProcess(name: string): void {
  unmanagedName = name;
}

/** Whether this process was started by the package (it has a parent Process). */
export function isChildProcess(): boolean {
  return state !== undefined && state.parent !== null;
}

// The start method chosen with setStartMethod(); in a child, the one that
// started it.
let chosenStartMethod: StartMethod | null = null;

export function chosenMethod(): StartMethod | null {
  return chosenStartMethod;
}

export function chooseMethod(method: StartMethod | null): void {
  chosenStartMethod = method;
}

// True while a spawn or forkserver child imports the parent's main module:
// starting a process then is the missing-main-guard mistake.
let bootstrapping = false;

export function isBootstrapping(): boolean {
  return bootstrapping;
}

export function setBootstrapping(value: boolean): void {
  bootstrapping = value;
}
