// The command line's options: hyperfine's names where hyperfine has the
// option, ours beside them. Every bad value is an error naming its option.

export const SUITES = ['startup', 'ipc', 'sync', 'sharedmem', 'pool', 'manager', 'cluster'] as const;
export type Suite = (typeof SUITES)[number];

export type TimeUnit = 'second' | 'millisecond' | 'microsecond' | 'nanosecond';

export interface CliOptions {
  suites: Suite[];
  quick: boolean;
  /** Samples per series; null: the suite's own default. */
  runs: number | null;
  minRuns: number | null;
  /** Startup: untimed starts per measuring process; the other suites: warm-up rounds. Null: the suite's default. */
  warmup: number | null;
  timeUnit: TimeUnit | null;
  parentHeapMB: number[] | null;
  concurrency: number[] | null;
  phases: boolean | null;
  peers: boolean;
  exportJson: string | null;
  exportMarkdown: string | null;
  exportCsv: string | null;
  svg: string | null;
  /** The progress line: on when stderr is a terminal, unless --no-progress. */
  progress: boolean;
  help: boolean;
  version: boolean;
}

export class UsageError extends Error {}

export const USAGE = `Usage: multiprocessing-bench [SUITE] [OPTIONS]

Measures this package against its peers in one run, alternating them, and
reports each series as hyperfine does.

Suites:
  startup     start()+join() of fork, forkserver and spawn against Python's
              multiprocessing, child_process, worker_threads, node -e and a
              C fork floor; fork cost against the parent's heap; procs/s (default)
  ipc         Pipe round trips, Queue throughput, large messages
  sync        Lock, RLock, a contended counter
  sharedmem   Value under its lock, SharedMemory bandwidth, attach and create
  pool        Pool apply/map/in-flight against Python, piscina, workerpool
  manager     SyncManager proxies, manager start and shutdown
  cluster     Pool through Redis (mp.cluster.bullmq): map of 100k items and
              apply round trip against BullMQ used directly (inline and
              sandboxed), the local Pool and a C floor; needs redis-server,
              bullmq and ioredis (skipped with a note without them)
  all         every suite above, in that order

Options:
  -r, --runs N             samples per series (startup: timed starts; other
                           suites: rounds of measuring processes x their samples)
  -m, --min-runs N         at least N samples per series
  -w, --warmup N           startup: untimed starts before the timed ones in each
                           measuring process (default 3); other suites: rounds
                           measured first and thrown away (default 0)
  -u, --time-unit UNIT     second, millisecond, microsecond or nanosecond (s, ms,
                           us, ns); default: chosen per comparison
      --parent-heap-mb LIST  fork cost against these parent heap sizes in MB
                           (default 0,100,500; none with --quick)
      --concurrency LIST   processes per second at these concurrencies
                           (default 1,16; 16 with --quick)
      --phases, --no-phases  where one start's time goes (default: on, off with --quick)
      --no-peers           ours only: no Python, no C floor (startup)
      --quick              a short run (what npm start runs)
      --export-json FILE   hyperfine's JSON (results[]: command, mean, stddev,
                           median, user, system, min, max, times, exit_codes,
                           parameters), plus the machine under "system"
      --export-markdown FILE  one hyperfine table per comparison
      --export-csv FILE    hyperfine's CSV columns, parameters after them
      --svg FILE           a chart: every series on a log scale, and the fork
                           cost against the parent's heap
      --no-progress        no progress line (it shows only on a terminal)
  -h, --help               this text
  -V, --version            the package's version
`;

function integer(option: string, value: string | undefined, min: number): number {
  if (value === undefined || value.startsWith('-')) throw new UsageError(`${option} needs a value`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${option} must be an integer >= ${min}; got '${value}'`);
  return n;
}

function integerList(option: string, value: string | undefined, min: number): number[] {
  if (value === undefined || value.startsWith('-')) throw new UsageError(`${option} needs a comma-separated list`);
  const items = value.split(',').map((item) => item.trim());
  const list = items.map((item) => {
    const n = Number(item);
    if (item === '' || !Number.isSafeInteger(n) || n < min) throw new UsageError(`${option} takes integers >= ${min}, comma-separated; got '${value}'`);
    return n;
  });
  return [...new Set(list)].sort((a, b) => a - b);
}

function file(option: string, value: string | undefined): string {
  if (value === undefined || value === '' || (value.startsWith('-') && value !== '-')) throw new UsageError(`${option} needs a file name`);
  return value;
}

const TIME_UNITS: Record<string, TimeUnit> = {
  second: 'second',
  s: 'second',
  millisecond: 'millisecond',
  ms: 'millisecond',
  microsecond: 'microsecond',
  us: 'microsecond',
  µs: 'microsecond',
  nanosecond: 'nanosecond',
  ns: 'nanosecond',
};

export function parseOptions(argv: readonly string[], isTTY: boolean): CliOptions {
  const options: CliOptions = {
    suites: [],
    quick: false,
    runs: null,
    minRuns: null,
    warmup: null,
    timeUnit: null,
    parentHeapMB: null,
    concurrency: null,
    phases: null,
    peers: true,
    exportJson: null,
    exportMarkdown: null,
    exportCsv: null,
    svg: null,
    progress: isTTY,
    help: false,
    version: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    // --option=value is --option value.
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string | undefined => (inline !== undefined ? inline : argv[++i]);
    switch (name) {
      case '-h':
      case '--help':
        options.help = true;
        break;
      case '-V':
      case '--version':
        options.version = true;
        break;
      case '--quick':
        options.quick = true;
        break;
      case '-r':
      case '--runs':
        options.runs = integer(name, value(), 1);
        break;
      case '-m':
      case '--min-runs':
        options.minRuns = integer(name, value(), 1);
        break;
      case '-w':
      case '--warmup':
        options.warmup = integer(name, value(), 0);
        break;
      case '-u':
      case '--time-unit': {
        const unit = value();
        if (unit === undefined || !(unit in TIME_UNITS)) {
          throw new UsageError(`${name} must be one of second, millisecond, microsecond, nanosecond (or s, ms, us, ns); got '${unit ?? ''}'`);
        }
        options.timeUnit = TIME_UNITS[unit];
        break;
      }
      case '--parent-heap-mb':
        options.parentHeapMB = integerList(name, value(), 0);
        break;
      case '--concurrency':
        options.concurrency = integerList(name, value(), 1);
        break;
      case '--phases':
        options.phases = true;
        break;
      case '--no-phases':
        options.phases = false;
        break;
      case '--no-peers':
        options.peers = false;
        break;
      case '--export-json':
        options.exportJson = file(name, value());
        break;
      case '--export-markdown':
        options.exportMarkdown = file(name, value());
        break;
      case '--export-csv':
        options.exportCsv = file(name, value());
        break;
      case '--svg':
        options.svg = file(name, value());
        break;
      case '--progress':
        options.progress = true;
        break;
      case '--no-progress':
        options.progress = false;
        break;
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown option '${arg}'`);
        if (arg === 'all') options.suites.push(...SUITES);
        else if ((SUITES as readonly string[]).includes(arg)) options.suites.push(arg as Suite);
        else throw new UsageError(`unknown suite '${arg}': one of ${SUITES.join(', ')}, all`);
    }
  }
  if (options.suites.length === 0) options.suites.push('startup');
  options.suites = [...new Set(options.suites)];
  if (options.runs !== null && options.minRuns !== null && options.runs < options.minRuns) {
    throw new UsageError(`--runs (${options.runs}) must not be below --min-runs (${options.minRuns})`);
  }
  return options;
}
