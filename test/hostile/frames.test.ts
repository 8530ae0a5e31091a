// A peer cannot leak descriptors into this process, make it reserve memory
// a message does not hold, or leave a connection out of step: raw frames
// from a Python peer (test/fixtures/hostile_peer.py).
import * as assert from 'node:assert/strict';
import { constants as bufferConstants } from 'node:buffer';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import * as mp from '../../lib/index';
import { sendSizes } from '../fixtures/hostile_targets';
import { openDescriptorsTo, withTimeout as boundedWait } from '../support/helpers';

const PEER = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'hostile_peer.py');
const WAIT_MS = 15000;

/** Descriptors open here on the files hostile_peer.py sends (other tests' descriptors come and go). */
function peerFds(): number {
  return openDescriptorsTo((target) => target.includes('/mp-hostile-fd-'));
}

function withTimeout<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  return boundedWait(promise, what, ms);
}

interface Peer {
  process: ChildProcess;
  /** Resolves once the peer has sent everything. */
  sent: Promise<void>;
  exited: Promise<number | null>;
}

function startPeer(mode: string, address: string, count = 1): Peer {
  const child = spawn('python3', [PEER, mode, address, String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const sent = new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('done')) resolve();
    });
    void exited.then(() => reject(new Error(`the peer (${mode}) exited before sending everything`)), reject);
  });
  return { process: child, sent, exited };
}

/** Runs `scenario` against a connection from a Python peer in `mode`; checks the peer exits and nothing stays open. */
async function withPeer(
  mode: string,
  options: mp.connection.ListenerOptions & { count?: number },
  scenario: (conn: mp.Connection | null, peer: Peer, accepted: Promise<mp.Connection>) => Promise<void>,
): Promise<void> {
  const { count, ...listenerOptions } = options;
  const listener = new mp.connection.Listener(null, listenerOptions);
  const peer = startPeer(mode, listener.address as string, count);
  try {
    const accepted = listener.accept();
    if (listenerOptions.authkey === undefined) {
      const conn = await withTimeout(accepted, 'accept');
      try {
        await scenario(conn, peer, accepted);
      } finally {
        conn.close();
      }
    } else {
      await scenario(null, peer, accepted);
    }
    assert.equal(await withTimeout(peer.exited, 'the peer'), 0);
  } finally {
    peer.process.kill('SIGKILL');
    listener.close();
  }
}

describe('hostile input: descriptors and frame lengths from a raw peer', function () {
  this.timeout(60000);

  it('descriptors sent with recvBytes() messages are closed: 3 fds x 20 messages leave no fd open', async () => {
    await withPeer('fds-with-bytes', { count: 20 }, async (conn, peer) => {
      await withTimeout(peer.sent, 'the peer');
      for (let i = 0; i < 20; i++) {
        const bytes = i % 2 === 0 ? await withTimeout(conn!.recvBytes(), 'recvBytes') : conn!.recvBytesSync();
        assert.equal(bytes.toString(), `bytes ${i}`);
      }
    });
    assert.equal(peerFds(), 0, 'every descriptor the peer sent is closed');
  });

  it('descriptors sent with data that no object takes are closed (recv and recvSync)', async () => {
    await withPeer('fds-with-data', { count: 20 }, async (conn, peer) => {
      await withTimeout(peer.sent, 'the peer');
      for (let i = 0; i < 20; i++) {
        const value = i % 2 === 0 ? await withTimeout(conn!.recv(), 'recv') : conn!.recvSync();
        assert.equal(value, i);
      }
    });
    assert.equal(peerFds(), 0, 'every descriptor the peer sent is closed');
  });

  it('a failed handshake with 64 descriptors attached leaks none', async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      await withPeer('handshake-fds', { authkey: 'the key' }, async (_conn, _peer, accepted) => {
        await assert.rejects(withTimeout(accepted, 'accept'), { name: 'AuthenticationError' });
      });
    }
    assert.equal(peerFds(), 0, 'every descriptor the peer sent is closed');
  });

  it('more than 64 descriptors with one message: all closed, the connection broken, not out of step', async () => {
    await withPeer('too-many-fds', {}, async (conn, peer) => {
      await withTimeout(peer.sent, 'the peer');
      await assert.rejects(withTimeout(conn!.recv(), 'recv'), { name: 'ProcessError', message: /more than 64 descriptors/ });
      await assert.rejects(withTimeout(conn!.recv(), 'recv'), { name: 'ProcessError', message: /no longer readable/ });
      assert.throws(() => conn!.recvSync(), { name: 'ProcessError', message: /no longer readable/ });
    });
    assert.equal(peerFds(), 0, 'every descriptor the peer sent is closed');
  });

  for (const mode of ['claims-2gib', 'claims-3gib-long']) {
    it(`a frame that ${mode.replace('claims-', 'claims ').replace('-long', ' in a long header')} is refused before memory is reserved`, async () => {
      const reserved = process.memoryUsage().arrayBuffers;
      await withPeer(mode, {}, async (conn, peer) => {
        assert.equal(conn!.maxMessageSize, 64 << 20, 'an unauthenticated connection takes 64 MiB');
        await withTimeout(peer.sent, 'the peer');
        await assert.rejects(withTimeout(conn!.recv(), 'recv'), { name: 'ProcessError', message: /maxMessageSize/ });
        assert.ok(process.memoryUsage().arrayBuffers - reserved < 32 << 20, 'nothing like the claimed size was reserved');
        await assert.rejects(withTimeout(conn!.recv(), 'recv'), { name: 'ProcessError', message: /no longer readable/ });
      });
    });
  }

  for (const mode of ['claims-2^63', 'short-long-header', 'negative']) {
    it(`a malformed header (${mode}) rejects the read and breaks the connection`, async () => {
      await withPeer(mode, {}, async (conn, peer) => {
        await withTimeout(peer.sent, 'the peer');
        await assert.rejects(withTimeout(conn!.recvBytes(), 'recvBytes'), { name: 'ProcessError' });
        assert.throws(() => conn!.recvBytesSync(), { name: 'ProcessError', message: /no longer readable/ });
      });
    });
  }

  it('maxMessageSize on a Listener bounds its connections; an authenticated one defaults to the largest Buffer', async () => {
    const listener = new mp.connection.Listener(null, { authkey: 'k', maxMessageSize: 1024 });
    try {
      const accepted = listener.accept();
      const client = await mp.connection.Client(listener.address, { authkey: 'k' });
      const server = await withTimeout(accepted, 'accept');
      try {
        assert.equal(server.maxMessageSize, 1024);
        assert.equal(client.maxMessageSize, bufferConstants.MAX_LENGTH);
        client.sendBytes(Buffer.alloc(1024));
        assert.equal((await withTimeout(server.recvBytes(), 'recvBytes')).length, 1024);
        client.sendBytes(Buffer.alloc(1025));
        await assert.rejects(withTimeout(server.recvBytes(), 'recvBytes'), { name: 'ProcessError', message: /maxMessageSize 1024/ });
        await assert.rejects(withTimeout(server.recv(), 'recv'), { message: /no longer readable/ });
      } finally {
        server.close();
        client.close();
      }
    } finally {
      listener.close();
    }
  });

  it('bad maxMessageSize values are refused naming the parameter, before anything is made', () => {
    // Synchronous: no finalizer of another test can close a descriptor meanwhile.
    const before = fs.readdirSync('/proc/self/fd').length;
    for (const bad of [0, -1, 1.5, Number.NaN, '10']) {
      assert.throws(() => mp.Pipe(true, { maxMessageSize: bad as number }), { name: 'RangeError', message: /"options\.maxMessageSize"/ });
      assert.throws(() => new mp.Queue(0, { maxMessageSize: bad as number }), { name: 'RangeError', message: /"options\.maxMessageSize"/ });
      assert.throws(() => new mp.connection.Listener(null, { maxMessageSize: bad as number }), { name: 'RangeError', message: /"options\.maxMessageSize"/ });
    }
    assert.equal(fs.readdirSync('/proc/self/fd').length, before);
  });

  for (const method of ['fork', 'spawn', 'forkserver'] as const) {
    it(`a Pipe's and a Queue's maxMessageSize holds in a child too (${method})`, async () => {
      const ctx = mp.getContext(method);
      const [reader, writer] = ctx.Pipe(false, { maxMessageSize: 4096 });
      const queue = new ctx.Queue(0, { maxMessageSize: 4096 });
      try {
        const child = new ctx.Process({ target: sendSizes, args: [writer, queue, [100, 10000]] });
        await child.start();
        assert.equal((await withTimeout(reader.recv(), 'recv') as Buffer).length, 100);
        await assert.rejects(withTimeout(reader.recv(), 'recv'), { name: 'ProcessError', message: /maxMessageSize 4096/ });
        assert.equal((await withTimeout(queue.get({ timeout: WAIT_MS }), 'get') as Buffer).length, 100);
        await assert.rejects(queue.get({ timeout: WAIT_MS }), { name: 'ProcessError', message: /maxMessageSize 4096/ });
        await assert.rejects(queue.get({ timeout: WAIT_MS }), { name: 'ProcessError', message: /the queue is broken/ });
        await child.join(WAIT_MS);
        assert.equal(child.exitCode, 0);
        child.close();
      } finally {
        reader.close();
        writer.close();
        queue.close();
      }
    });
  }
});
