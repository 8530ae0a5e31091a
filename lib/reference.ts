// Functions and classes by reference (DESIGN.md "Functions by reference"):
// for spawn and forkserver a function crosses as the module that exports it
// and the export name, found without any registration by the user.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { native } from './native';
import { dynamicImport } from './util';

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
  if ('module' in found) cache.set(fn, found);
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

/** Loads the module of a reference synchronously (CommonJS, or ES modules without top-level await). */
export function loadReferenceSync(reference: FunctionReference): Function {
  const filename = reference.module.startsWith('file:') ? fileURLToPath(reference.module) : reference.module;
  return resolveReference(reference, requireHere(filename));
}

/** Loads the module of a reference the way its kind needs: import() for ES modules. */
export async function loadReference(reference: FunctionReference): Promise<Function> {
  if (!reference.module.startsWith('file:')) return loadReferenceSync(reference);
  return resolveReference(reference, await dynamicImport(reference.module));
}
