// A peer that did not prove it holds the authkey sends data only: a
// function, class or package-object reference from it is refused before
// any module loads, whatever the message's tag byte claims. Authenticated
// peers and inherited channels resolve references, also into the sender's
// main module from a receiver run with `node -e`. Default Unix socket
// addresses are in a private directory; a TCP Listener open to the network
// without an authkey warns once.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';

import * as mp from '../../lib/index';
import { reportTrust } from '../fixtures/hostile_targets';
import { tempDir, withTimeout as boundedWait } from '../support/helpers';

const MARK = '\u0000mp';
const TAG_MARKED = 1;
const TAG_MARKED_REFS = 5;
const RECV_MS = 10000;

/** A message as the wire carries it: tag byte, then node:v8 data. */
function crafted(tag: number, value: unknown): Buffer {
  return Buffer.concat([Buffer.from([tag]), v8.serialize(value)]);
}

function withTimeout<T>(promise: Promise<T>, what: string, ms = RECV_MS): Promise<T> {
  return boundedWait(promise, what, ms);
}

/** A connected pair through a Listener; `authkey` on both sides or neither. */
async function connectedPair(authkey?: string): Promise<{ server: mp.Connection; client: mp.Connection; close(): void }> {
  const listener = new mp.connection.Listener(null, { authkey });
  const accepted = listener.accept();
  const client = await mp.connection.Client(listener.address, { authkey });
  const server = await withTimeout(accepted, 'accept');
  return {
    server,
    client,
    close() {
      server.close();
      client.close();
      listener.close();
    },
  };
}

describe('hostile input: references from unauthenticated peers', function () {
  this.timeout(60000);
  let dir: string;
  let canary: string;
  let loadedFlag: string;

  beforeEach(() => {
    dir = tempDir('mp-hostile-');
    canary = path.join(dir, 'canary.js');
    loadedFlag = path.join(dir, 'loaded');
    fs.writeFileSync(canary, `require('fs').writeFileSync(${JSON.stringify(loadedFlag)}, 'loaded');\nexports.run = () => 1;\n`);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses function and class references with SerializationError and loads nothing, whatever the tag says', async () => {
    const pair = await connectedPair();
    try {
      assert.equal(pair.server.trusted, false);
      assert.equal(pair.client.trusted, false);
      const ref = { module: canary, name: 'run', line: 0, column: 0 };
      const nodeAddon = { module: path.join(dir, 'evil.node'), name: null, line: 0, column: 0 };
      const messages = [
        crafted(TAG_MARKED_REFS, { [MARK]: 'fn', ref }),
        // A liar's tag: "marked, but no references".
        crafted(TAG_MARKED, { [MARK]: 'fn', ref }),
        crafted(TAG_MARKED, { nested: [1, { deeper: new Map([['k', { [MARK]: 'obj', ref, fields: {} }]]) }] }),
        crafted(TAG_MARKED, { [MARK]: 'fn', ref: nodeAddon }),
        crafted(TAG_MARKED, { [MARK]: 'red', id: 'multiprocessing.SharedMemory', state: { name: '/victim', size: 1 } }),
        crafted(TAG_MARKED, { [MARK]: 'whatever' }),
      ];
      for (const message of messages) {
        pair.client.sendBytes(message);
        await assert.rejects(withTimeout(pair.server.recv(), 'recv'), { name: 'SerializationError', message: /authkey/ });
        pair.client.sendBytes(message);
        assert.throws(() => pair.server.recvSync(), { name: 'SerializationError', message: /authkey/ });
      }
      assert.equal(fs.existsSync(loadedFlag), false, 'the referenced module was never loaded');
      // The same from a well-behaved sender: refused on arrival.
      pair.client.send({ callback: mp.cpuCount });
      await assert.rejects(withTimeout(pair.server.recv(), 'recv'), { name: 'SerializationError', message: /a function reference/ });
    } finally {
      pair.close();
    }
  });

  it('still carries data, and errors arrive as built-in errors without loading their class', async () => {
    const pair = await connectedPair();
    try {
      const data = { n: 1, big: 2n ** 70n, when: new Date(0), bytes: Buffer.from('hi'), map: new Map([[1, new Set(['a'])]]) };
      pair.client.send(data);
      assert.deepEqual(await withTimeout(pair.server.recv(), 'recv'), data);
      class CustomError extends Error {
        readonly code = 'E_CUSTOM';
      }
      const error = new CustomError('custom');
      error.name = 'CustomError';
      pair.client.send({ error, plain: new RangeError('plain') });
      const received = (await withTimeout(pair.server.recv(), 'recv')) as { error: Error & { code: string }; plain: Error };
      assert.ok(received.error instanceof Error);
      assert.equal(received.error.name, 'CustomError');
      assert.equal(received.error.message, 'custom');
      assert.equal(received.error.code, 'E_CUSTOM');
      assert.ok(received.plain instanceof RangeError);
      // A sparse array that claims a length of 2^32 - 1 revives in bounded time.
      const sparse: unknown[] = [];
      sparse[2 ** 32 - 2] = { [MARK]: 'err', ref: null, props: { name: 'Error', message: 'far' } };
      pair.client.sendBytes(crafted(TAG_MARKED, sparse));
      const started = Date.now();
      const revived = (await withTimeout(pair.server.recv(), 'recv')) as unknown[];
      assert.equal(revived.length, 2 ** 32 - 1);
      assert.equal((revived[2 ** 32 - 2] as Error).message, 'far');
      assert.ok(Date.now() - started < 5000, 'bounded time');
    } finally {
      pair.close();
    }
  });

  for (const method of ['fork', 'spawn', 'forkserver'] as const) {
    it(`an unauthenticated connection handed to a child stays untrusted there (${method})`, async () => {
      const pair = await connectedPair();
      const [reader, writer] = mp.Pipe(false);
      try {
        const child = new (mp.getContext(method).Process)({ target: reportTrust, args: [pair.server, writer] });
        await child.start();
        assert.equal(await withTimeout(reader.recv(), "the child's report"), false);
        await child.join(RECV_MS);
        assert.equal(child.exitCode, 0);
        child.close();
      } finally {
        reader.close();
        writer.close();
        pair.close();
      }
    });
  }

  it('authenticated connections resolve references, into the sender\'s main module from a `node -e` receiver', async () => {
    const receiver = `
      const mp = require(${JSON.stringify(path.resolve(__dirname, '..', '..', 'lib', 'index.js'))});
      (async () => {
        const listener = new mp.connection.Listener(null, { authkey: 'secret' });
        console.log(listener.address);
        const conn = await listener.accept();
        const fn = await conn.recv();
        console.log(conn.trusted, typeof fn, fn(7), process.argv.length);
        conn.close();
        listener.close();
      })().catch((error) => { console.log('failed', error.name, error.message); process.exitCode = 1; });`;
    const child = spawn(process.execPath, ['-e', receiver], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const address = await withTimeout(
        new Promise<string>((resolve) => {
          child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
            stdout += chunk;
            if (stdout.includes('\n')) resolve(stdout.split('\n')[0]);
          });
        }),
        'the receiver\'s address',
      );
      const sender = spawn(process.execPath, [path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'mains', 'send_main_function.mjs'), address, 'secret'], {
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      const senderCode = await withTimeout(new Promise<number | null>((resolve) => sender.on('close', resolve)), 'the sender');
      assert.equal(senderCode, 0);
      assert.equal(await withTimeout(exited, 'the receiver'), 0, stdout);
      assert.equal(stdout.split('\n')[1], 'true function 35 1', 'the function arrived, the receiver\'s argv is as it was');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a default Unix socket address is in a private directory of this user, removed at exit', async () => {
    const listener = new mp.connection.Listener();
    const address = listener.address as string;
    const directory = path.dirname(address);
    try {
      const stat = fs.statSync(directory);
      assert.equal(stat.mode & 0o777, 0o700);
      assert.equal(stat.uid, process.getuid?.());
    } finally {
      listener.close();
    }
    assert.equal(fs.existsSync(address), false);
    const script = `
      const mp = require(${JSON.stringify(path.resolve(__dirname, '..', '..', 'lib', 'index.js'))});
      const listener = new mp.connection.Listener();
      console.log(listener.address);`;
    const output = await runNode(['-e', script]);
    assert.equal(output.code, 0);
    assert.equal(fs.existsSync(path.dirname(output.stdout.trim())), false, 'the directory went with its process');
  });

  it('a TCP Listener open beyond loopback without an authkey warns once; loopback or an authkey do not', async () => {
    const script = `
      const mp = require(${JSON.stringify(path.resolve(__dirname, '..', '..', 'lib', 'index.js'))});
      let warnings = [];
      process.on('warning', (w) => warnings.push(w.code + ': ' + w.message));
      const kinds = process.argv[1];
      const listeners = [];
      if (kinds === 'open') listeners.push(new mp.connection.Listener(['0.0.0.0', 0]), new mp.connection.Listener(['', 0]));
      else listeners.push(new mp.connection.Listener(['127.0.0.1', 0]), new mp.connection.Listener(['localhost', 0]),
        new mp.connection.Listener(['0.0.0.0', 0], { authkey: 'k' }));
      setImmediate(() => { for (const l of listeners) l.close(); console.log(JSON.stringify(warnings)); });`;
    const open = await runNode(['--no-warnings', '-e', script, 'open']);
    const warnings = JSON.parse(open.stdout) as string[];
    assert.equal(warnings.length, 1, open.stdout);
    assert.match(warnings[0], /^MP_UNAUTHENTICATED_LISTENER: .*no authkey/);
    const closed = await runNode(['--no-warnings', '-e', script, 'closed']);
    assert.deepEqual(JSON.parse(closed.stdout), []);
  });
});

function runNode(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node ${args[0]} timed out`));
    }, RECV_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout });
    });
  });
}
