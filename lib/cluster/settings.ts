// A cluster backend's options once checked, and the check of a queue or prefix name.
import type { RedisConnectionOptions } from './redis';

/** The checked options of mp.cluster.bullmq(). */
export interface ClusterSettings {
  connection: RedisConnectionOptions;
  queue: string;
  prefix: string;
  root: string;
  processes: number | null;
}

export function checkName(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '' || value.includes(':')) {
    throw new TypeError(`The "${name}" option must be a non-empty string without ':'; received ${String(value)}`);
  }
  return value;
}

/**
 * Set while a cluster worker process loads a task's module: a module that
 * makes a cluster pool at its top level (the program's main module without
 * its main guard) would have the worker wait for itself.
 */
export const taskModuleLoading = { active: false };
