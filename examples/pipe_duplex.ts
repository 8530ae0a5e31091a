// A Pipe is two connected ends, two-way by default: the parent keeps one,
// the child gets the other. poll(timeout) says whether something can be
// read without waiting longer than that; send()/recv() carry objects,
// sendBytes()/recvBytes() raw bytes (the receiver must know which comes:
// recv() does not read a sendBytes() message); when one end closes, the
// other's recv() rejects with EOFError. Python:
//   parent_conn, child_conn = Pipe()
//   child_conn.send(...); parent_conn.poll(5); parent_conn.recv()
import * as mp from '../lib/index';

const WAIT_MS = 5_000;

/** Waits at most WAIT_MS for something to read. */
async function ready(conn: mp.Connection): Promise<mp.Connection> {
  if (!(await conn.poll(WAIT_MS))) throw new Error(`nothing arrived within ${WAIT_MS} ms`);
  return conn;
}

/** Answers every message until the other end closes; 'bytes next' announces raw bytes. */
export async function echo(conn: mp.Connection): Promise<void> {
  for (;;) {
    let message: unknown;
    try {
      message = await (await ready(conn)).recv();
    } catch (error) {
      if (!(error instanceof mp.EOFError)) throw error;
      console.log('[child] recv(): EOFError, the parent closed its end; exiting');
      break;
    }
    if (message === 'bytes next') conn.sendBytes((await (await ready(conn)).recvBytes()).reverse());
    else conn.send({ echo: message, by: mp.currentProcess().name });
  }
  conn.close();
}

async function main(): Promise<void> {
  const [here, there] = mp.Pipe();
  const child = new mp.Process({ target: echo, args: [there] });
  child.start();
  there.close(); // the child has its own copy of this end

  console.log(`poll(0) before sending: ${await here.poll(0)}`);
  here.send({ ping: 1, tags: new Set(['a', 'b']) });
  const first = (await (await ready(here)).recv()) as { echo: { ping: number; tags: Set<string> }; by: string };
  const { ping, tags } = first.echo;
  console.log(`reply from ${first.by}: ping ${ping}, tags ${tags instanceof Set ? 'a Set' : 'not a Set'} of ${[...tags].join(', ')}`);
  here.send('ping 2');
  console.log(`reply: ${JSON.stringify(await (await ready(here)).recv())}`);

  here.send('bytes next');
  here.sendBytes(Buffer.from('stressed'));
  console.log(`recvBytes(): ${(await (await ready(here)).recvBytes()).toString()}`);

  here.close();
  await child.join(WAIT_MS);
  console.log(`child exitCode=${child.exitCode}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
