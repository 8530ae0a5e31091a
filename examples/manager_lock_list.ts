// Ten processes append to one manager list, each under a Lock; and a list
// proxy stored in a manager dict stays live (a nested plain object would be
// a copy). Python:
//   def worker(shared_list, lock):
//       with lock:
//           shared_list.append(1)
import * as mp from '../lib/index';

export async function worker(sharedList: mp.managers.ListProxy<number>, lock: mp.Lock): Promise<void> {
  await lock.withLock(() => sharedList.append(1));
}

async function main(): Promise<void> {
  await using manager = await mp.Manager();
  const sharedList = await manager.list<number>(); // Створюємо спільний список
  const lock = new mp.Lock(); // Створюємо блокування для синхронізації доступу
  const processes = Array.from({ length: 10 }, () => new mp.Process({ target: worker, args: [sharedList, lock] }));
  for (const process of processes) process.start();
  for (const process of processes) await process.join(10_000);
  console.log(JSON.stringify(await sharedList.toArray()));
  // Nested proxies are live; a nested plain object is a copy.
  const registry = await manager.dict<string, unknown>();
  await registry.set('results', sharedList);
  const results = (await registry.get('results')) as mp.managers.ListProxy<number>;
  await results.append(2);
  console.log(`length through the dict: ${await sharedList.length()}`);
}

if (require.main === module) void main();
