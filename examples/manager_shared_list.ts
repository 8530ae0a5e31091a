// A list that lives in a manager's server process: a child appends to it
// through a proxy, and the parent reads it back. Python:
//   with Manager() as manager:
//       shared_list = manager.list()
//       p = Process(target=worker, args=(shared_list,)); p.start(); p.join()
//       print(shared_list)
import * as mp from '../lib/index';

export async function worker(sharedList: mp.managers.ListProxy<string>): Promise<void> {
  await sharedList.append('Дані від процесу');
}

async function main(): Promise<void> {
  await using manager = await mp.Manager();
  const sharedList = await manager.list<string>(); // Створюємо спільний список
  const process = new mp.Process({ target: worker, args: [sharedList] });
  process.start();
  await process.join(10_000);
  console.log(JSON.stringify(await sharedList.toArray())); // Виводимо дані, додані процесом
}

if (require.main === module) void main();
