// Sending an object to the parent, twice: through a Queue (any number of
// processes may share it) and through a Pipe (a pair of connected ends,
// two-way by default). [42, null, 'hello'] arrives whole both times. Python:
//   q = Queue(); p = Process(target=f, args=(q,)); p.start(); print(q.get())
//   parent_conn, child_conn = Pipe(); ...; print(parent_conn.recv())
import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;

export async function f(q: mp.Queue<unknown>): Promise<void> {
  await q.put([42, null, 'hello']);
}

export function g(conn: mp.Connection): void {
  conn.send([42, null, 'hello']);
  conn.close();
}

async function main(): Promise<void> {
  const q = new mp.Queue();
  const p = new mp.Process({ target: f, args: [q] });
  p.start();
  console.log(JSON.stringify(await q.get({ timeout: JOIN_TIMEOUT_MS }))); // prints "[42,null,"hello"]"
  await p.join(JOIN_TIMEOUT_MS);

  const [parentConn, childConn] = mp.Pipe();
  const p2 = new mp.Process({ target: g, args: [childConn] });
  p2.start();
  if (!(await parentConn.poll(JOIN_TIMEOUT_MS))) throw new Error('nothing arrived through the pipe in time');
  console.log(JSON.stringify(await parentConn.recv())); // prints "[42,null,"hello"]"
  await p2.join(JOIN_TIMEOUT_MS);
  q.close();
  parentConn.close();
  childConn.close();
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
