// Twin of seed note 001 (English and Vietnamese, "Working around the GIL"), section "Tùy chỉnh cách
// spawn process": set_start_method('fork') in the main process, then a child
// reports the start method it was started with ("Start method: fork").
import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;

export function showMethod(): void {
  console.log(`Start method: ${mp.getStartMethod()}`);
}

async function main(): Promise<void> {
  mp.setStartMethod('fork'); // 'fork' is for Linux and macOS only
  const p = new mp.Process({ target: showMethod });
  p.start();
  await p.join(JOIN_TIMEOUT_MS);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
