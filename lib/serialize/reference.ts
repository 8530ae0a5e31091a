// Functions and classes by reference (docs/ARCHITECTURE.md, "Serialization"):
// for spawn and forkserver a function crosses as the module that exports it
// and the export name, found without any registration by the user.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { native } from '../native';
import { dynamicImport } from '../util';
import { registerAtFork } from '../process/at_fork';

/** Where a function can be found again in another process. */
export interface FunctionReference {
  /** An absolute path (CommonJS) or a URL (ES module). */
  module: string;
  /** The export's name; null when the module's exports object is the function. */
  name: string | null;
  /** Where the function was defined, to check in the child that it found the same one. */
  line: number;
  column: number;
}

/** Why a function has no reference, for the user's error message. */
export type ReferenceFailure = { reason: string };

const cache = new WeakMap<Function, FunctionReference>();
const requireHere = createRequire(__filename);

export function findReference(fn: Function): FunctionReference | ReferenceFailure {
  const cached = cache.get(fn);
  if (cached !== undefined) return cached;
  const found = lookUp(fn);
  if ('module' in found) {
    cache.set(fn, found);
    remember(found, fn);
  }
  return found;
}

function lookUp(fn: Function): FunctionReference | ReferenceFailure {
  if (isBound(fn)) return { reason: 'it is a bound function' };
  const origin = native.functionOrigin(fn);
  if (origin === null) return { reason: 'it has no source module (native, eval or new Function code)' };
  const { url, line, column } = origin;
  const at = (name: string | null): FunctionReference => ({ module: url, name, line, column });
  if (url.startsWith('file:')) return findInEsModule(fn, url, at);
  if (path.isAbsolute(url)) return findInCommonJs(fn, url, at);
  return { reason: `its module ${url} cannot be imported by another process` };
}

function isBound(fn: Function): boolean {
  return fn.name.startsWith('bound ') && !Object.prototype.hasOwnProperty.call(fn, 'prototype');
}

function findInCommonJs(
  fn: Function,
  filename: string,
  at: (name: string | null) => FunctionReference,
): FunctionReference | ReferenceFailure {
  const loaded = requireHere.cache[filename];
  if (loaded === undefined) return { reason: `its module ${filename} is not in the CommonJS module cache` };
  const exported: unknown = loaded.exports;
  if (exported === fn) return at(null);
  const name = exportNameOf(fn, exported);
  if (name !== null) return at(name);
  return { reason: `it is not exported from ${filename}${loaded.loaded ? '' : ' (yet: the module is still loading)'}` };
}

function findInEsModule(
  fn: Function,
  url: string,
  at: (name: string | null) => FunctionReference,
): FunctionReference | ReferenceFailure {
  const filename = fileURLToPath(url);
  let namespace: unknown;
  try {
    // Node ≥ 20.19 returns the already-loaded module's namespace.
    namespace = requireHere(filename);
  } catch {
    // The module is still evaluating (the main module, usually) or awaits
    // at top level: read its export list from the source instead.
    return findInSource(fn, filename, at);
  }
  const name = exportNameOf(fn, namespace);
  if (name !== null) return at(name);
  return { reason: `it is not exported from ${url}` };
}

function exportNameOf(fn: Function, exported: unknown): string | null {
  if (exported === null || (typeof exported !== 'object' && typeof exported !== 'function')) return null;
  const record = exported as Record<string, unknown>;
  // The function's own name first: the usual `export function name`.
  if (fn.name !== '' && Object.prototype.hasOwnProperty.call(record, fn.name) && record[fn.name] === fn) {
    return fn.name;
  }
  for (const key of Object.keys(record)) {
    if (key === '__esModule') continue;
    let value: unknown;
    try {
      value = record[key];
    } catch {
      continue;
    }
    if (value === fn) return key;
  }
  return null;
}

interface LexedExport {
  name: string;
  localName: string | undefined;
}

type Lexer = { parse(source: string, name?: string): readonly [unknown, readonly LexedExport[]] };
let lexer: Lexer | undefined;

/**
 * A module whose evaluation has not finished has no namespace to search
 * yet; its exports are static, so they are read from its source. The
 * function is matched by name, and the child checks the definition site.
 */
function findInSource(
  fn: Function,
  filename: string,
  at: (name: string | null) => FunctionReference,
): FunctionReference | ReferenceFailure {
  let exports: readonly LexedExport[];
  try {
    lexer ??= requireHere('es-module-lexer') as Lexer;
    exports = lexer.parse(fs.readFileSync(filename, 'utf8'), filename)[1];
  } catch (error) {
    return { reason: `the exports of ${filename} cannot be read (${(error as Error).message})` };
  }
  const ownName = fn.name;
  for (const entry of exports) {
    if (entry.name === undefined) continue;
    if (entry.localName !== undefined && entry.localName === ownName) return at(entry.name);
    if (entry.name === 'default' && entry.localName === undefined && ownName === 'default') return at('default');
  }
  return { reason: `it is not exported from ${pathToFileURL(filename).href}` };
}

/** Finds the function a reference names, checking it is the one that was sent. */
export function resolveReference(reference: FunctionReference, exported: unknown): Function {
  const value = reference.name === null ? exported : (exported as Record<string, unknown> | null)?.[reference.name];
  if (typeof value !== 'function') {
    throw new Error(`${describeReference(reference)} is not a function in this process`);
  }
  const origin = native.functionOrigin(value);
  if (origin !== null && (origin.line !== reference.line || origin.column !== reference.column)) {
    throw new Error(
      `${describeReference(reference)} is defined at line ${origin.line + 1} here, not at line ` +
        `${reference.line + 1} as in the sending process: the function that was sent is not exported under that name`,
    );
  }
  return value;
}

export function describeReference(reference: FunctionReference): string {
  return `${reference.name ?? 'module.exports'} of ${reference.module}`;
}

/** Only import() can load the module of this reference here (top-level await, not loaded yet). */
export class NeedsImport extends Error {}

// ---------------------------------------------------------------------------
// Resolving, in order of cost: functions this process already resolved or
// sent; namespaces this process imported; require() (CommonJS, and ES
// modules without top-level await); the function objects in this process's
// heap, found by their definition site (an ES module still evaluating here,
// as the main module is in a fork child taken mid-evaluation); import()
// (async only: a module with top-level await).

/** Functions by reference key, of this process and (inherited) of its parent before a fork. */
const known = new Map<string, WeakRef<Function>>();
/** Namespaces of ES modules this process imported: what require() cannot give for top-level await. */
const namespaces = new Map<string, unknown>();
/** Per module URL, its functions in this heap by definition site ('line:column'). */
const byDefinition = new Map<string, Map<string, Function>>();

function referenceKey(reference: FunctionReference): string {
  return `${reference.module}\u0000${reference.name ?? ''}\u0000${reference.line}:${reference.column}`;
}

function remember(reference: FunctionReference, fn: Function): Function {
  known.set(referenceKey(reference), new WeakRef(fn));
  return fn;
}

/** ES modules still evaluating in this process, as far as this package knows (see followEvaluation). */
const evaluating = new Set<string>();

/**
 * Notes that `url` (the main module) is evaluating until its import()
 * settles; then its namespace is remembered. A fork child taken meanwhile
 * keeps it as evaluating for good: its copy of that evaluation never goes on.
 */
export function followEvaluation(url: string): void {
  evaluating.add(url);
  const done = (): void => {
    evaluating.delete(url);
  };
  importModule(url).then(done, done);
}

/**
 * import() that remembers the namespace of a file: URL, so that references
 * into the module resolve without waiting later (the main module of spawn
 * and forkserver children, which may await at top level).
 */
export async function importModule(specifier: string): Promise<unknown> {
  const namespace = await dynamicImport(specifier);
  if (specifier.startsWith('file:')) namespaces.set(specifier, namespace);
  return namespace;
}

// A module that sent a function runs its main guard again when it loads
// here (`import.meta.url === pathToFileURL(process.argv[1]).href`). A
// spawn child has a script in argv[1], so the guard is simply false; a
// receiver run with `node -e`, from stdin or in the REPL has none, and the
// guard would throw. Such a receiver gets the spawn bootstrap's path there
// while the module loads, and its argv back afterwards.
const placeholderScript = path.join(__dirname, '..', 'entry', 'spawn_main.js');

function lendScriptArgument(): () => void {
  if (process.argv.length >= 2 && typeof process.argv[1] === 'string') return () => {};
  const length = process.argv.length;
  process.argv[1] = placeholderScript;
  return () => {
    if (process.argv[1] === placeholderScript) process.argv.length = length;
  };
}

function loadModule(specifier: string): unknown {
  const giveBack = lendScriptArgument();
  try {
    return requireHere(specifier);
  } finally {
    giveBack();
  }
}

async function importLoaning(specifier: string): Promise<unknown> {
  const giveBack = lendScriptArgument();
  try {
    return await importModule(specifier);
  } finally {
    giveBack();
  }
}

/** Resolves a reference without waiting; NeedsImport when only import() can load its module here. */
export function resolveReferenceSync(reference: FunctionReference): Function {
  const seen = known.get(referenceKey(reference))?.deref();
  if (seen !== undefined) return seen;
  if (!reference.module.startsWith('file:')) return remember(reference, resolveReference(reference, loadModule(reference.module)));
  const imported = namespaces.get(reference.module);
  if (imported !== undefined) return remember(reference, resolveReference(reference, imported));
  let namespace: unknown;
  try {
    namespace = loadModule(fileURLToPath(reference.module));
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_REQUIRE_ASYNC_MODULE' && !evaluating.has(reference.module)) {
      // Top-level await: require() refuses it even once evaluated; import() does not.
      throw new NeedsImport(`${reference.module} has top-level await`);
    }
    if (code !== 'ERR_REQUIRE_CYCLE_MODULE' && code !== 'ERR_REQUIRE_ASYNC_MODULE') throw error;
    // Still evaluating in this process (the main module, here or in a fork
    // child taken mid-evaluation, maybe waiting at a top-level await):
    // import() would wait for the end of an evaluation that may never end
    // here, but the functions are in the heap, with the module's state.
    const found = functionsDefinedIn(reference.module).get(`${reference.line}:${reference.column}`);
    if (found !== undefined) return remember(reference, found);
    throw new Error(
      `${describeReference(reference)} does not exist in this process yet: its module is still evaluating ` +
        'here and had not defined it',
    );
  }
  namespaces.set(reference.module, namespace);
  return remember(reference, resolveReference(reference, namespace));
}

/** Resolves a reference, importing its module with import() when nothing else can load it. */
export async function resolveReferenceAsync(reference: FunctionReference): Promise<Function> {
  try {
    return resolveReferenceSync(reference);
  } catch (error) {
    if (!(error instanceof NeedsImport)) throw error;
  }
  return remember(reference, resolveReference(reference, await importLoaning(reference.module)));
}

/** The functions this heap holds that `url` defined, by definition site; one heap walk per module and process. */
function functionsDefinedIn(url: string): Map<string, Function> {
  let index = byDefinition.get(url);
  if (index === undefined) {
    index = new Map();
    for (const fn of native.functionsDefinedIn(url)) {
      const origin = native.functionOrigin(fn);
      if (origin !== null) index.set(`${origin.line}:${origin.column}`, fn);
    }
    byDefinition.set(url, index);
  }
  return index;
}

// A fork child inherits these caches with the heap they point into, but an
// index the parent built before the fork may miss functions the parent
// defined after building it: the child walks its own heap again if need be.
registerAtFork({ afterInChild: () => byDefinition.clear() });
