// A Pool whose tasks run on other machines: the backend is a Redis queue
// (BullMQ), and every machine that serves it runs
//   npx multiprocessing-worker --redis redis://HOST:6379 --queue words --processes 8
// from the same deployed code. The pool's API is the local one: map fans
// out in chunks and gathers in order, errors carry the worker's host, pid
// and stack. Here one worker runs inside this program (mp.cluster.startWorker,
// what the command runs), against REDIS_URL or, without it, a throwaway
// redis-server listening on a Unix socket.
// Ray (Python): ray.util.multiprocessing.Pool(ray_address=...).map(count_words, texts)
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as mp from '../lib/index';

/** A redis-server with nothing kept on disk, on a Unix socket in a fresh directory. */
async function throwawayRedis(): Promise<{ connection: mp.cluster.RedisConnectionOptions; stop(): void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-'));
  const socket = path.join(dir, 'redis.sock');
  const server = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  for (let waited = 0; !fs.existsSync(socket); waited += 20) {
    if (waited > 10_000 || server.exitCode !== null) throw new Error('redis-server did not start (is it installed?)');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const stop = (): void => {
    server.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { connection: { path: socket }, stop };
}

export function countWords(text: string): number {
  return text.split(/\s+/).filter((word) => word !== '').length;
}

export function mustBeText(value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`not text: ${String(value)}`);
  return value;
}

async function main(): Promise<void> {
  const redis = process.env.REDIS_URL === undefined ? await throwawayRedis() : null;
  const connection = process.env.REDIS_URL ?? (redis as { connection: mp.cluster.RedisConnectionOptions }).connection;
  const worker = await mp.cluster.startWorker({ connection, queue: 'words', processes: 2 });
  try {
    await using pool = new mp.Pool({ backend: mp.cluster.bullmq({ connection, queue: 'words' }) });
    const texts = ['the quick brown fox', 'jumps over', 'the lazy dog', ''];
    console.log(`map: ${JSON.stringify(await pool.map(countWords, texts))}`);
    console.log(`apply: ${await pool.apply(countWords, ['one two three'])}`);
    try {
      await pool.apply(mustBeText, [42]);
    } catch (error) {
      const remote = (error as Error).cause as mp.RemoteError;
      console.log(`error: ${(error as Error).name}: ${(error as Error).message}`);
      console.log(`  from ${remote.host === os.hostname() ? 'this host' : remote.host}, ${worker.pids.includes(remote.pid ?? -1) ? "one of the worker's processes" : `pid ${remote.pid}`}`);
    }
  } finally {
    await worker.close();
    redis?.stop();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
