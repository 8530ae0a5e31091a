// Logging (docs/API.md section 11; Python's multiprocessing.util get_logger
// and log_to_stderr): the logger's API in this process, and its stderr
// output, inherited by children of every start method, read from the
// stderr of test/fixtures/logging_main.ts.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import * as mp from '../lib/index';
import { writeLevel } from './fixtures/logging_main';
import { isRunning, killActiveChildren, runFixture, tempDir, type ScriptResult } from './support/helpers';

const JOIN_MS = 10000;
const methods: mp.StartMethod[] = ['fork', 'spawn', 'forkserver'];
const LEVELS = { NOTSET: 0, SUBDEBUG: 5, DEBUG: 10, INFO: 20, SUBWARNING: 25, WARNING: 30, ERROR: 40, CRITICAL: 50 } as const;

const logger = mp.getLogger();

/** A handler that keeps what it is given. */
function collector(): { records: mp.LogRecord[]; handler: mp.LogHandler } {
  const records: mp.LogRecord[] = [];
  return { records, handler: (record) => records.push(record) };
}

function resetLogger(): void {
  for (const handler of logger.handlers) logger.removeHandler(handler);
  logger.setLevel(mp.NOTSET);
}

/** The lines of `stderr` in Python's logging format. */
function logLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => /^\[[A-Z0-9 ]+\/[^\]]+\] /.test(line));
}

function assertInOrder(lines: string[], expected: string[], stderr: string): void {
  let at = -1;
  for (const line of expected) {
    const found = lines.indexOf(line, at + 1);
    assert.ok(found > at, `"${line}" after the lines before it in:\n${stderr}`);
    at = found;
  }
}

/** What `fn` writes to process.stderr, kept from the real one. */
function capturingStderr(fn: () => void): string[] {
  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = (chunk: string | Uint8Array): boolean => {
    written.push(String(chunk));
    return true;
  };
  try {
    fn();
  } finally {
    process.stderr.write = write;
  }
  return written;
}

function json<T>(result: ScriptResult): T {
  assert.equal(result.code, 0, `exit code ${result.code}; stderr:\n${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

describe('logging: the logger', () => {
  afterEach(resetLogger);

  it("has Python's level numbers, on the module and on every context", () => {
    for (const [name, value] of Object.entries(LEVELS)) {
      assert.equal((mp as unknown as Record<string, number>)[name], value, name);
      for (const method of mp.getAllStartMethods()) {
        assert.equal((mp.getContext(method) as unknown as Record<string, number>)[name], value, `${method} context's ${name}`);
      }
    }
  });

  it('is one logger, named multiprocessing, also from contexts', () => {
    assert.equal(mp.getLogger(), logger);
    assert.equal(logger.name, 'multiprocessing');
    for (const method of mp.getAllStartMethods()) {
      assert.equal(mp.getContext(method).getLogger(), logger);
      assert.equal(mp.getContext(method).logToStderr, mp.logToStderr);
    }
  });

  it('starts at NOTSET with no handlers; its effective level is then WARNING, as in Python', () => {
    assert.equal(logger.level, mp.NOTSET);
    assert.deepEqual(logger.handlers, []);
    assert.equal(logger.getEffectiveLevel(), mp.WARNING);
    assert.equal(logger.isEnabledFor(mp.INFO), false);
    assert.equal(logger.isEnabledFor(mp.WARNING), true);
  });

  it('takes levels as numbers or names', () => {
    logger.setLevel('SUBDEBUG');
    assert.equal(logger.level, 5);
    logger.setLevel(mp.INFO);
    assert.equal(logger.level, 20);
    assert.equal(logger.getEffectiveLevel(), 20);
    logger.setLevel(15);
    assert.equal(logger.isEnabledFor(mp.DEBUG), false);
    assert.equal(logger.isEnabledFor(15), true);
  });

  it('refuses a bad level, naming the parameter, and keeps the level it had', () => {
    logger.setLevel(mp.INFO);
    const cases: Array<[unknown, typeof TypeError | typeof RangeError]> = [
      ['info', RangeError],
      ['VERBOSE', RangeError],
      ['toString', RangeError],
      [-1, RangeError],
      [1.5, RangeError],
      [Number.NaN, RangeError],
      [null, TypeError],
      [undefined, TypeError],
      [{}, TypeError],
      [10n, TypeError],
    ];
    for (const [bad, type] of cases) {
      assert.throws(() => logger.setLevel(bad as number), (error: Error) => {
        assert.ok(error instanceof type, `${String(bad)}: ${error.name}`);
        assert.match(error.message, /"level"/);
        return true;
      });
    }
    assert.equal(logger.level, mp.INFO);
    assert.throws(() => logger.log('INFO' as unknown as number, 'x'), { name: 'TypeError', message: /"level"/ });
    assert.throws(() => logger.isEnabledFor(Number.NaN), { name: 'TypeError', message: /"level"/ });
  });

  it('hands records at or above its level to its handlers', () => {
    const { records, handler } = collector();
    logger.addHandler(handler);
    logger.setLevel(mp.INFO);
    logger.debug('dropped');
    logger.log(mp.SUBDEBUG, 'dropped');
    logger.info('info');
    logger.log(mp.SUBWARNING, 'subwarning');
    logger.warning('warning');
    logger.error('error');
    logger.critical('critical');
    logger.log(42, 'custom');
    assert.deepEqual(
      records.map((r) => [r.levelName, r.level, r.message]),
      [
        ['INFO', 20, 'info'],
        ['SUBWARNING', 25, 'subwarning'],
        ['WARNING', 30, 'warning'],
        ['ERROR', 40, 'error'],
        ['CRITICAL', 50, 'critical'],
        ['Level 42', 42, 'custom'],
      ],
    );
    records.length = 0;
    logger.setLevel(mp.SUBDEBUG);
    logger.log(mp.SUBDEBUG, 'sub');
    logger.debug('debug');
    assert.deepEqual(records.map((r) => r.levelName), ['SUBDEBUG', 'DEBUG']);
  });

  it('at NOTSET passes WARNING and above only', () => {
    const { records, handler } = collector();
    logger.addHandler(handler);
    logger.info('dropped');
    logger.warning('kept');
    assert.deepEqual(records.map((r) => r.message), ['kept']);
  });

  it('makes records with the process, the pid and the time', () => {
    const { records, handler } = collector();
    logger.addHandler(handler);
    const before = Date.now();
    logger.error('something');
    const [record] = records;
    assert.deepEqual(
      { ...record, time: 0 },
      { name: 'multiprocessing', level: 40, levelName: 'ERROR', message: 'something', processName: 'MainProcess', pid: process.pid, time: 0 },
    );
    assert.ok(record.time >= before && record.time <= Date.now());
    assert.ok(Object.isFrozen(record));
  });

  it('formats messages as Python does with %: %s, %d, %r, %%; without arguments the text is left alone', () => {
    const { records, handler } = collector();
    logger.addHandler(handler);
    logger.warning('%s has %d items, named %r (100%%)', 'list', 3, 'x');
    logger.warning('%r and %r', { a: 1 }, [1, 'b']);
    logger.warning('100% and %s, as given');
    logger.warning('%%r stays');
    logger.warning('%%r is literal with arguments too: %s', 1);
    logger.warning({ an: 'object' });
    assert.deepEqual(records.map((r) => r.message), [
      "list has 3 items, named 'x' (100%)",
      "{ a: 1 } and [ 1, 'b' ]",
      '100% and %s, as given',
      '%%r stays',
      '%r is literal with arguments too: 1',
      "{ an: 'object' }",
    ]);
  });

  it('takes functions and objects with handle() as handlers, each once, and removes them', () => {
    const first = collector();
    const second: mp.LogRecord[] = [];
    const object = { handle: (record: mp.LogRecord) => second.push(record) };
    logger.addHandler(first.handler);
    logger.addHandler(first.handler);
    logger.addHandler(object);
    assert.deepEqual(logger.handlers, [first.handler, object]);
    assert.throws(() => (logger.handlers as mp.LogHandler[]).push(() => {}), TypeError);
    logger.warning('both');
    logger.removeHandler(first.handler);
    logger.removeHandler(first.handler);
    logger.warning('object only');
    assert.deepEqual(first.records.map((r) => r.message), ['both']);
    assert.deepEqual(second.map((r) => r.message), ['both', 'object only']);
    for (const bad of [null, 'stderr', {}, { handle: 1 }]) {
      assert.throws(() => logger.addHandler(bad as mp.LogHandler), { name: 'TypeError', message: /"handler"/ });
    }
    assert.deepEqual(logger.handlers, [object]);
  });

  it('reports a handler that throws on stderr, and the other handlers still get the record', () => {
    const { records, handler } = collector();
    logger.addHandler(() => {
      throw new Error('handler broke');
    });
    logger.addHandler(handler);
    const written = capturingStderr(() => assert.doesNotThrow(() => logger.error('still delivered')));
    assert.deepEqual(records.map((r) => r.message), ['still delivered']);
    assert.match(written.join(''), /^--- Logging error ---\nError: handler broke[^]*Message: "still delivered"\n$/);
  });

  it('logToStderr() prints [LEVEL/ProcessName] message, adds its handler once, and returns the logger', () => {
    const written = capturingStderr(() => {
      assert.equal(mp.logToStderr(), logger);
      assert.equal(mp.logToStderr('INFO'), logger);
      assert.equal(logger.handlers.length, 1);
      assert.equal(logger.level, mp.INFO);
      logger.info('process %s', 'shutting down');
      logger.debug('not shown');
    });
    assert.deepEqual(written, ['[INFO/MainProcess] process shutting down\n']);
  });

  it('logToStderr() with a bad level throws and adds nothing', () => {
    assert.throws(() => mp.logToStderr('LOUD' as mp.LogLevelName), { name: 'RangeError', message: /"level"/ });
    assert.throws(() => mp.logToStderr(true as unknown as number), { name: 'TypeError', message: /"level"/ });
    assert.deepEqual(logger.handlers, []);
    assert.equal(logger.level, mp.NOTSET);
  });

  it('is in the ES module build', async () => {
    const esm = (await new Function('s', 'return import(s)')(path.join(__dirname, '..', 'lib', 'index.mjs'))) as Record<string, unknown>;
    for (const name of ['getLogger', 'logToStderr', ...Object.keys(LEVELS)]) {
      assert.equal(esm[name], (mp as unknown as Record<string, unknown>)[name], name);
    }
  });
});

describe('logging: children in this process', () => {
  let dir: string;
  before(() => {
    dir = tempDir();
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    resetLogger();
    await killActiveChildren(JOIN_MS);
  });

  for (const method of methods) {
    it(`a ${method} child starts with the parent's level`, async () => {
      const file = path.join(dir, `level-${method}.json`);
      logger.setLevel(mp.SUBWARNING);
      const p = new (mp.getContext(method).Process)({ target: writeLevel, args: [file] });
      p.start();
      await p.join(JOIN_MS);
      assert.equal(p.exitCode, 0);
      assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { level: mp.SUBWARNING, handlers: 0 });
    });
  }

  it("a fork child keeps the parent's handlers, and its records name the child", async () => {
    const file = path.join(dir, 'fork-records.jsonl');
    logger.addHandler((record) => fs.appendFileSync(file, JSON.stringify(record) + '\n'));
    logger.setLevel(mp.INFO);
    const p = new (mp.getContext('fork').Process)({ target: () => mp.getLogger().info('from %s', 'the child') });
    p.start();
    await p.join(JOIN_MS);
    assert.equal(p.exitCode, 0);
    const child = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as mp.LogRecord)
      .filter((record) => record.pid === p.pid);
    assert.deepEqual(
      child.map((r) => [r.processName, r.levelName, r.message]),
      [
        [p.name, 'INFO', 'child process calling self.run()'],
        [p.name, 'INFO', 'from the child'],
        [p.name, 'INFO', 'process shutting down'],
        [p.name, 'INFO', 'process exiting with exitcode 0'],
      ],
    );
  });
});

describe('logging: stderr of a program', () => {
  for (const method of methods) {
    describe(`with ${method} children`, () => {
      it('prints the parent\'s and the child\'s records; the child has the parent\'s level and exit code', async () => {
        const result = await runFixture('logging_main', ['run', 'INFO', method]);
        const { exitCode } = json<{ exitCode: number }>(result);
        assert.equal(exitCode, 3);
        const lines = logLines(result.stderr);
        assertInOrder(
          lines,
          [
            '[INFO/MainProcess] parent before start',
            '[INFO/Process-1] child process calling self.run()',
            "[INFO/Process-1] child level 20, effective 20, 'quoted'",
            '[INFO/Process-1] process shutting down',
            '[INFO/Process-1] process exiting with exitcode 3',
            '[INFO/MainProcess] process shutting down',
          ],
          result.stderr,
        );
        assert.equal(lines.filter((line) => line.startsWith('[DEBUG/')).length, 0, result.stderr);
        assert.equal(result.stderr.includes('MULTIPROCESSING'), false, 'no NODE_DEBUG output unless asked');
      });

      it('a DEBUG level reaches the child too', async () => {
        const result = await runFixture('logging_main', ['run', String(mp.DEBUG), method]);
        json(result);
        const lines = logLines(result.stderr);
        assertInOrder(
          lines,
          [
            '[DEBUG/MainProcess] parent debug',
            "[INFO/Process-1] child level 10, effective 10, 'quoted'",
            '[DEBUG/Process-1] child debug',
            '[DEBUG/Process-1] running all "atexit" finalizers with priority >= 0',
            '[DEBUG/Process-1] running the remaining "atexit" finalizers',
            '[INFO/Process-1] process exiting with exitcode 3',
            '[INFO/MainProcess] process shutting down',
            '[DEBUG/MainProcess] running all "atexit" finalizers with priority >= 0',
          ],
          result.stderr,
        );
      });

      it('at exit: a daemon is terminated, then a child joined, and each says so', async () => {
        const result = await runFixture('logging_main', ['exit', method]);
        const { pids } = json<{ pids: number[] }>(result);
        assert.equal(pids.length, 2);
        const main = logLines(result.stderr).filter((line) => line.includes('/MainProcess] '));
        assertInOrder(
          main,
          [
            '[INFO/MainProcess] process shutting down',
            '[INFO/MainProcess] calling terminate() for daemon Process-2',
            '[INFO/MainProcess] calling join() for process Process-1',
          ],
          result.stderr,
        );
        assert.ok(logLines(result.stderr).includes('[INFO/Process-1] process exiting with exitcode 0'), result.stderr);
        for (const pid of pids) assert.equal(isRunning(pid), false, `child ${pid} is gone`);
      });

      it('prints nothing without logToStderr(); NODE_DEBUG=multiprocessing prints as before', async () => {
        const silent = await runFixture('logging_main', ['quiet', method], { env: { ...process.env, NODE_DEBUG: '' } });
        assert.deepEqual(json(silent), { exitCode: 0 });
        assert.equal(silent.stderr, '');
        const debugged = await runFixture('logging_main', ['quiet', method], { env: { ...process.env, NODE_DEBUG: 'multiprocessing' } });
        assert.deepEqual(json(debugged), { exitCode: 0 });
        const lines = debugged.stderr.split('\n').filter((line) => line !== '');
        for (const line of lines) assert.match(line, /^MULTIPROCESSING \d+: /, debugged.stderr);
        assert.ok(lines.some((line) => / child process calling self\.run\(\)$/.test(line)), debugged.stderr);
        assert.ok(lines.some((line) => / process exiting with exitcode 0$/.test(line)), debugged.stderr);
        assert.ok(lines.some((line) => / process shutting down$/.test(line)), debugged.stderr);
        assert.equal(logLines(debugged.stderr).length, 0, 'the child\'s own records have no handler');
      });
    });
  }

  it("the resource tracker's leak warning is a WARNING record when the program logs to stderr", async () => {
    const result = await runFixture('logging_main', ['leak', 'DEBUG']);
    const { segment } = json<{ segment: string }>(result);
    // runFixture resolves once stderr closes: once the tracker, which holds it too, has exited.
    assert.equal(fs.existsSync(`/dev/shm/${segment}`), false, 'the tracker removed the segment');
    const lines = logLines(result.stderr);
    assert.ok(lines.includes(`[DEBUG/ResourceTracker] resource_tracker: removed shared_memory /${segment}`), result.stderr);
    assert.ok(
      lines.includes(
        `[WARNING/ResourceTracker] resource_tracker: There appear to be 1 leaked shared_memory objects to clean up at shutdown: '/${segment}'`,
      ),
      result.stderr,
    );
    assert.equal(result.stderr.includes('UserWarning'), false, result.stderr);
  });

  it("above WARNING the tracker's warning keeps Python's UserWarning form: it is never lost", async () => {
    const result = await runFixture('logging_main', ['leak', 'ERROR']);
    const { segment } = json<{ segment: string }>(result);
    assert.equal(fs.existsSync(`/dev/shm/${segment}`), false, 'the tracker removed the segment');
    assert.match(result.stderr, new RegExp(`UserWarning: resource_tracker: There appear to be 1 leaked shared_memory objects.*'/${segment}'`));
    assert.equal(logLines(result.stderr).length, 0, result.stderr);
  });
});
