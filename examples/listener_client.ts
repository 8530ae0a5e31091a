// Listener and Client: connections between processes that share no pipe.
// Any process that knows the address (here a TCP port on 127.0.0.1, port 0
// picking a free one; or a Unix socket path) and the authkey can connect:
// both sides prove they hold the key (an HMAC challenge), and a wrong key
// fails with AuthenticationError on both sides. The wire format is
// Python's, so a Python Client can talk to this Listener. Python:
//   with Listener(('127.0.0.1', 0), authkey=key) as listener:
//       with listener.accept() as conn: print(conn.recv())
//   with Client(address, authkey=key) as conn: conn.send(...)
import { randomBytes } from 'node:crypto';

import * as mp from '../lib/index';

const WAIT_MS = 10_000;

export async function client(address: mp.connection.Address, authkey: Buffer, question: string): Promise<void> {
  const conn = await mp.connection.Client(address, { authkey });
  conn.send({ from: mp.currentProcess().name, question });
  if (!(await conn.poll(WAIT_MS))) throw new Error('no answer in time');
  console.log(`[${mp.currentProcess().name}] answer: ${String(await conn.recv())}`);
  conn.close();
}

export async function intruder(address: mp.connection.Address): Promise<void> {
  try {
    (await mp.connection.Client(address, { authkey: Buffer.from('a guess') })).close();
    console.log('[intruder] connected?!');
  } catch (error) {
    console.log(`[intruder] Client() with a wrong key: ${(error as Error).name}`);
  }
}

async function serve(listener: mp.connection.Listener): Promise<void> {
  const conn = await listener.accept({ signal: AbortSignal.timeout(WAIT_MS) });
  if (!(await conn.poll(WAIT_MS))) throw new Error('no question in time');
  const { from, question } = (await conn.recv()) as { from: string; question: string };
  conn.send(`${question.toUpperCase()}, ${from}`);
  conn.close();
}

async function main(): Promise<void> {
  const authkey = randomBytes(32);
  const listener = new mp.connection.Listener(['127.0.0.1', 0], { authkey });
  try {
    const [host, port] = listener.address as [string, number];
    console.log(`listening on ${host}:${port} (port 0 asked for a free one)`);

    const clients = ['hello', 'hi'].map((q) => new mp.Process({ target: client, args: [listener.address, authkey, q] }));
    for (const p of clients) p.start();
    for (const _ of clients) await serve(listener);
    for (const p of clients) await p.join(WAIT_MS);

    const bad = new mp.Process({ target: intruder, args: [listener.address] });
    bad.start();
    await listener.accept({ signal: AbortSignal.timeout(WAIT_MS) }).catch((e: Error) => console.log(`[listener] accept(): ${e.name}`));
    await bad.join(WAIT_MS);
  } finally {
    listener.close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
