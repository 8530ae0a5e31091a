// What a spawn or forkserver child is told before it runs (CPython's
// spawn.get_preparation_data / prepare): who it is, who its parent is, the
// parent's main module and working directory, and the process object.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as v8 from 'node:v8';

import { chooseMethod, setBootstrapping } from '../process/current';
import { adoptLoggingSettings, loggingSettings, type LoggingSettings } from '../logging';
import { ParentProcess, Process, currentProcess, type ProcessSnapshot, type StartMethod } from '../process/process';
import { dumps, loadsAsync } from '../serialize/reduction';
import { adoptTracker, ensureRunning as ensureTracker } from '../sharedmem/resource_tracker';
import { followEvaluation, importModule } from '../serialize/reference';

export interface MainModule {
  kind: 'commonjs' | 'module';
  /** A file path (CommonJS) or a file URL (ES module). */
  specifier: string;
}

export interface Preparation {
  name: string;
  daemon: boolean;
  identity: number[];
  authkey: Buffer;
  parentName: string;
  parentPid: number;
  startMethod: StartMethod;
  cwd: string;
  /** The parent's process.argv after the script. */
  argv: string[];
  main: MainModule | null;
  /** The serialized ProcessSnapshot. */
  process: Buffer;
  /** Which passed descriptor is the resource tracker's pipe. */
  trackerFdIndex: number;
  /** The parent's logger level and whether it logs to stderr (Python's log_level, log_to_stderr). */
  logging: LoggingSettings;
}

/**
 * The parent's main module, which children import (not as main) so that
 * functions defined there exist in them. A tool's entry point inside
 * node_modules (mocha, a task runner) is skipped: it is not the user's code
 * and would run the tool again.
 */
export function mainModule(): MainModule | null {
  const cjsMain = require.main;
  if (cjsMain !== undefined) {
    return isToolEntry(cjsMain.filename) ? null : { kind: 'commonjs', specifier: cjsMain.filename };
  }
  const script = process.argv[1];
  if (typeof script !== 'string' || script === '' || process.execArgv.some(isEvalFlag)) return null;
  const resolved = realMainPath(path.resolve(script));
  return isToolEntry(resolved) ? null : { kind: 'module', specifier: pathToFileURL(resolved).href };
}

/** The main module's path as Node loaded it: through symlinks unless --preserve-symlinks-main. */
function realMainPath(resolved: string): string {
  if (process.execArgv.includes('--preserve-symlinks-main')) return resolved;
  try {
    return fs.realpathSync(resolved);
  } catch {
    return resolved;
  }
}

function isToolEntry(filename: string): boolean {
  return filename.split(path.sep).includes('node_modules');
}

function isEvalFlag(flag: string): boolean {
  return /^(-e|--eval|-p|--print|-i|--interactive)(=|$)/.test(flag);
}

/** Builds the preparation data of `child` for `method`; throws SerializationError for what cannot cross. */
export function prepare(child: Process, method: StartMethod): { data: Buffer; fds: number[] } {
  const snapshot = child._snapshot();
  const sent = dumps(snapshot, method);
  const parent = currentProcess();
  const preparation: Preparation = {
    name: snapshot.name,
    daemon: snapshot.daemon,
    identity: snapshot.identity,
    authkey: snapshot.authkey,
    parentName: parent.name,
    parentPid: process.pid,
    startMethod: method,
    cwd: process.cwd(),
    argv: process.argv.slice(2),
    main: mainModule(),
    process: sent.data,
    // As CPython: the child shares this tree's tracker, started now if need be.
    trackerFdIndex: sent.fds.length,
    logging: loggingSettings(),
  };
  return { data: v8.serialize(preparation), fds: [...sent.fds, ensureTracker()] };
}

// An ES main module: while it evaluates, references into it resolve through
// the functions in the heap (import() would wait for its end); once done,
// through its namespace, in this process and in fork children taken later
// (require() refuses a module with top-level await even when it is done).
// In spawn and forkserver children the main script is this package's
// bootstrap (CommonJS), so this does nothing there.
const ownMain = mainModule();
if (ownMain?.kind === 'module') followEvaluation(ownMain.specifier);

export function readPreparation(data: Uint8Array): Preparation {
  return v8.deserialize(data) as Preparation;
}

/**
 * In the child: takes on the identity the preparation gives, imports the
 * parent's main module (not as main) unless the process already has, then
 * rebuilds the process object.
 */
export async function becomeChild(
  preparation: Preparation,
  fds: readonly number[],
  script: string,
  /** The main module this process has imported already (a forkserver's), or null. */
  importedMain: string | null = null,
): Promise<Process> {
  // First, as Python's prepare(): the main module's own logging calls come after.
  adoptLoggingSettings(preparation.logging);
  adoptTracker(fds[preparation.trackerFdIndex]);
  const parent = new ParentProcess(preparation.parentName, preparation.parentPid);
  Process._becomeCurrentInChild(Process._placeholder(preparation), parent);
  chooseMethod(preparation.startMethod);
  process.argv = [process.argv[0], script, ...preparation.argv];
  if (process.cwd() !== preparation.cwd) {
    try {
      process.chdir(preparation.cwd);
    } catch {
      // The directory may be gone; Python carries on in this case too.
    }
  }
  if (preparation.main !== null && preparation.main.specifier !== importedMain) await importMain(preparation.main);
  const snapshot = (await loadsAsync(preparation.process, fds)) as ProcessSnapshot;
  const child = Process._fromSnapshot(snapshot);
  Process._becomeCurrentInChild(child, parent);
  return child;
}

async function importMain(main: MainModule | null): Promise<void> {
  if (main === null) return;
  setBootstrapping(true);
  try {
    if (main.kind === 'commonjs') require(main.specifier);
    else await importModule(main.specifier);
  } finally {
    setBootstrapping(false);
  }
}
