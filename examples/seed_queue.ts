// Twin of seed note 000 (Vietnamese, "Process (tiến trình)"), "Trao đổi các đối tượng
// giữa các tiến trình": f(q) puts [42, None, 'hello'] on a Queue and the
// parent prints q.get(); then the same object through a Pipe (the seed's
// next item: "Pipe trả về một cặp đối tượng kết nối … hai chiều").
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
  console.log(JSON.stringify(await q.get())); // prints "[42,null,"hello"]"
  await p.join(JOIN_TIMEOUT_MS);

  const [parentConn, childConn] = mp.Pipe();
  const p2 = new mp.Process({ target: g, args: [childConn] });
  p2.start();
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
