// bullmq and ioredis are optional peer dependencies: loaded only by a Pool
// with a cluster backend and by multiprocessing-worker. They are looked for
// beside this package first, then from the program's own directory (a
// package installed through a symlink resolves from its real path, where
// the program's node_modules is not on the way up).
import { createRequire } from 'node:module';
import * as path from 'node:path';

const INSTALL_HINT = 'npm install bullmq ioredis';

/** An optional peer dependency that is not installed. */
export class MissingPackageError extends Error {}

export function loadOptional<T>(name: string, who: string): T {
  const bases = [__filename, path.join(process.cwd(), 'index.js')];
  if (typeof process.argv[1] === 'string' && process.argv[1] !== '') bases.push(process.argv[1]);
  let lastError: unknown;
  for (const base of bases) {
    try {
      return createRequire(base)(name) as T;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
      lastError = error;
    }
  }
  throw new MissingPackageError(`${who} needs the optional package ${name}, which is not installed: ${INSTALL_HINT}`, { cause: lastError });
}
