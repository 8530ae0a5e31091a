// A V8 code cache for the package's own modules in a spawn child: the
// child compiles the same ~60 files at every start, and parsing them is a
// third of what the package costs it. Imported first by spawn_main.ts; it
// affects only files under this package's compiled lib/ directory.
//
// The cache lives in a directory of this user's (0700, checked to be ours
// and not a link) per Node version and architecture, one file per module,
// keyed as Python keys its .pyc files: by the module file's identity and
// times (path, inode, size, mtime and ctime to the nanosecond) and the
// source's length, so a changed file never meets a stale entry; V8 itself
// rejects an entry made under other V8 flags. Hashing the sources instead
// would load node:crypto (~4 ms) into every spawn child. Entries are
// written at exit, atomically, by a child that had to compile without one.
import * as fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';

const LIB_DIR = path.join(__dirname, '..') + path.sep;

interface CompilingModule {
  exports: unknown;
}

type Compile = (this: CompilingModule, content: string, filename: string) => unknown;

function cacheDirectory(): string | null {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  const dir = path.join(base, 'multiprocessing-node', `${process.version}-${process.arch}`);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = fs.lstatSync(dir);
    const uid = process.getuid?.();
    if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o077) !== 0) return null;
    return dir;
  } catch {
    return null;
  }
}

/** Two 32-bit lanes (FNV-1a and a murmur-style mix) over a short identity string: 64 bits, no crypto needed. */
function hash64(text: string): string {
  let a = 0x811c9dc5 | 0;
  let b = 0x1b873593 | 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

function cacheKey(filename: string, content: string): string | null {
  try {
    const stat = fs.statSync(filename, { bigint: true });
    return hash64(`${filename}\0${stat.ino}\0${stat.size}\0${stat.mtimeNs}\0${stat.ctimeNs}\0${content.length}`);
  } catch {
    return null;
  }
}

function install(): void {
  const dir = cacheDirectory();
  if (dir === null) return;
  // The package's import() (util.ts) is made here, in a file Node compiled:
  // made in a file compiled with vm, it would find no module loader.
  (globalThis as Record<symbol, unknown>)[Symbol.for('multiprocessing.importer')] = new Function(
    'specifier',
    'return import(specifier)',
  );
  const toWrite: Array<{ file: string; script: vm.Script }> = [];
  const moduleProto = (Module as unknown as { prototype: { _compile: Compile } }).prototype;
  const original = moduleProto._compile;
  const wrap = (Module as unknown as { wrap: (content: string) => string }).wrap;
  moduleProto._compile = function (this: CompilingModule, content: string, filename: string): unknown {
    if (!filename.startsWith(LIB_DIR)) return original.call(this, content, filename);
    const key = cacheKey(filename, content);
    if (key === null) return original.call(this, content, filename);
    const file = path.join(dir, `${key}.v8`);
    let cachedData: Buffer | undefined;
    try {
      cachedData = fs.readFileSync(file);
    } catch {
      cachedData = undefined;
    }
    // A hashbang is valid only at the very start of a source, not inside the module wrapper (a bin script's).
    const source = content.startsWith('#!') ? `//${content.slice(2)}` : content;
    const script = new vm.Script(wrap(source), { filename, cachedData });
    if (cachedData === undefined || script.cachedDataRejected === true) toWrite.push({ file, script });
    const compiled = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    return compiled.call(this.exports, this.exports, createRequire(filename), this, filename, path.dirname(filename));
  };
  // After the run: the functions it compiled are in the cache too.
  process.once('exit', () => {
    for (const { file, script } of toWrite) {
      const temporary = `${file}.${process.pid}.tmp`;
      try {
        fs.writeFileSync(temporary, script.createCachedData(), { mode: 0o600 });
        fs.renameSync(temporary, file);
      } catch {
        fs.rmSync(temporary, { force: true });
      }
    }
  });
}

if (process.env.MULTIPROCESSING_NO_CODE_CACHE === undefined) install();
