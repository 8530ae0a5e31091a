// The workerpool peer's worker script for bench/pool.ts (workerType
// 'process': workerpool forks this file), registering the twin of
// bench/pool_tasks.ts's noop under the name wp.exec('noop', []) calls.
import * as workerpool from 'workerpool';

workerpool.worker({
  noop(): null {
    return null;
  },
});
