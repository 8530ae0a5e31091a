// The three start methods side by side, on one target:
//   fork:       the child is a copy of this process at start(): it sees what
//               main() set, and any function, a closure too, can be its target;
//   spawn:      a new `node` that imports this module (not as main), so it
//               sees the module as freshly loaded;
//   forkserver: (the default) a fork of a server that imported this module
//               once; the server, not this process, is the child's OS parent.
// With spawn and forkserver a target crosses by reference, so it must be
// exported: an inline closure is a SerializationError at start(). Python:
//   for method in multiprocessing.get_all_start_methods():
//       ctx = multiprocessing.get_context(method)
//       p = ctx.Process(target=report); p.start(); p.join()
import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;

/** Set by main() before any child starts; only a forked child has a copy of that memory. */
let setting = 'as loaded';

export function report(): void {
  const osParent = process.ppid === mp.parentProcess()?.pid ? 'the main process' : 'the fork server';
  console.log(`[${mp.getStartMethod()}] setting is '${setting}'; the OS parent is ${osParent}`);
}

export function nothing(): void {}

async function main(): Promise<void> {
  setting = 'set by main()';
  console.log(`start methods: ${mp.getAllStartMethods().join(', ')} (the first is the default)`);
  for (const method of mp.getAllStartMethods()) {
    const ctx = mp.getContext(method);
    const times: string[] = [];
    for (const target of [report, nothing]) {
      const started = performance.now();
      const p = new ctx.Process({ target });
      p.start();
      await p.join(JOIN_TIMEOUT_MS);
      times.push(`${(performance.now() - started).toFixed(1)} ms`);
    }
    // The first forkserver start includes starting the server.
    console.log(`[${method}] start() to join(): ${times.join(', then ')}`);
  }

  for (const method of mp.getAllStartMethods()) {
    const p = new (mp.getContext(method).Process)({ target: () => report() });
    try {
      p.start();
      await p.join(JOIN_TIMEOUT_MS);
      console.log(`[${method}] an inline closure as the target: ran, exitCode=${p.exitCode}`);
    } catch (error) {
      console.log(`[${method}] an inline closure as the target: ${(error as Error).name}`);
    }
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
