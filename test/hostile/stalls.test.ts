// Peers that stall cannot stall the forkserver or a Listener: requests and
// handshakes are read side by side, each within a deadline; the forkserver
// takes an authkey of any length.
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { forkserverPid, forkserverSocketPath } from '../../lib/process/forkserver';
import { setForkserverReplyTimeout } from '../../lib/process/popen/forkserver';
import * as mp from '../../lib/index';
import { native } from '../../lib/native';
import { countRun } from '../fixtures/hostile_targets';
import { exitWith } from '../fixtures/targets';
import { withTimeout as boundedWait } from '../support/helpers';

const PEER = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'hostile_peer.py');
const WAIT_MS = 20000;

function withTimeout<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  return boundedWait(promise, what, ms);
}

/** A Python peer in `mode` connected to `address`; resolves once it has sent what it sends. */
async function stallingPeer(mode: string, address: string, count = 1): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn('python3', [PEER, mode, address, String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        if (output.includes('done')) resolve();
      });
      child.on('error', reject);
      child.on('close', () => reject(new Error(`the peer exited early: ${output}`)));
    }),
    'the peer',
  );
  return { child, output: () => output };
}

/** Resolves once `pid` has died (gone, or a zombie not yet reaped); polled, as nothing signals it here. */
async function waitForDeath(pid: number): Promise<void> {
  for (;;) {
    let state: string;
    try {
      state = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
    } catch {
      return;
    }
    if (state === 'Z' || state === 'X') return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function startAndJoin(method: mp.StartMethod): Promise<number> {
  const ctx = mp.getContext(method);
  const child = new ctx.Process({ target: exitWith, args: [7] });
  const started = Date.now();
  child.start();
  const took = Date.now() - started;
  await child.join(WAIT_MS);
  assert.equal(child.exitCode, 7);
  child.close();
  return took;
}

describe('hostile input: peers that stall', function () {
  this.timeout(60000);

  it('the forkserver takes an authkey of any length (16, 32, 64, 300 bytes)', async () => {
    const me = mp.currentProcess();
    const original = me.authkey;
    try {
      for (const length of [16, 32, 64, 300]) {
        me.authkey = randomBytes(length);
        await startAndJoin('forkserver');
      }
    } finally {
      me.authkey = original;
    }
  });

  it('a client that sends one byte and stops stalls neither the forkserver nor start()', async () => {
    await startAndJoin('forkserver');
    const socket = forkserverSocketPath();
    assert.ok(socket !== null);
    const peer = await stallingPeer('one-byte', socket);
    try {
      for (let i = 0; i < 3; i++) {
        const took = await startAndJoin('forkserver');
        assert.ok(took < 5000, `start() took ${took} ms while a client stalled`);
      }
      // The server drops the stalled client at its deadline.
      await withTimeout(new Promise<void>((resolve) => peer.child.on('close', () => resolve())), 'the server to drop the client');
      assert.match(peer.output(), /closed/);
    } finally {
      peer.child.kill('SIGKILL');
    }
  });

  it('a flood of 600 silent connections neither delays start() nor exhausts the server', async () => {
    await startAndJoin('forkserver');
    const socket = forkserverSocketPath();
    const server = forkserverPid();
    assert.ok(socket !== null && server !== null);
    const peer = await stallingPeer('flood', socket, 600);
    try {
      for (let i = 0; i < 3; i++) {
        const took = await startAndJoin('forkserver');
        assert.ok(took < 5000, `start() took ${took} ms during the flood`);
      }
      assert.equal(forkserverPid(), server, 'the server was replaced');
      const open = fs.readdirSync(`/proc/${server}/fd`).length;
      assert.ok(open < 200, `the server holds ${open} descriptors`);
      // Every silent connection is dropped: the oldest to make room, the rest at their deadline.
      await withTimeout(new Promise<void>((resolve) => peer.child.on('close', () => resolve())), 'the server to drop the flood');
      assert.match(peer.output(), /closed/);
    } finally {
      peer.child.kill('SIGKILL');
    }
  });

  it('a server that stopped answering is killed and replaced; the process starts exactly once', async () => {
    await startAndJoin('forkserver');
    const stopped = forkserverPid();
    assert.ok(stopped !== null);
    const counter = mp.Value('i', 0);
    process.kill(stopped, 'SIGSTOP');
    setForkserverReplyTimeout(1000);
    try {
      const child = new (mp.getContext('forkserver').Process)({ target: countRun, args: [counter] });
      child.start();
      await child.join(WAIT_MS);
      assert.equal(child.exitCode, 0);
      assert.notEqual(forkserverPid(), stopped, 'the stopped server is still in use');
      // The stopped server was killed: resumed, it could not start the process a second time.
      await withTimeout(waitForDeath(stopped), 'the stopped server to die');
      assert.equal(counter.value, 1);
    } finally {
      setForkserverReplyTimeout(30000);
      try {
        process.kill(stopped, 'SIGCONT');
      } catch {
        // already gone
      }
    }
  });

  it('a silent client does not stall Listener.accept(); it is refused at its deadline', async () => {
    const listener = new mp.connection.Listener(null, { authkey: 'secret' });
    const peer = await stallingPeer('silent', listener.address as string);
    try {
      const accepting = listener.accept();
      const client = await mp.connection.Client(listener.address, { authkey: 'secret' });
      const started = Date.now();
      const server = await withTimeout(accepting, 'accept', 5000);
      assert.ok(Date.now() - started < 5000);
      server.send('hello');
      assert.equal(await withTimeout(client.recv(), 'recv'), 'hello');
      server.close();
      client.close();
      await assert.rejects(withTimeout(listener.accept(), 'the silent peer to be refused'), {
        name: 'AuthenticationError',
        message: /did not complete authentication/,
      });
    } finally {
      peer.child.kill('SIGKILL');
      listener.close();
    }
  });

  it('a flood of 400 silent peers neither starves a real Client nor exhausts the Listener', async () => {
    const listener = new mp.connection.Listener(null, { authkey: 'secret', backlog: 1024 });
    const before = fs.readdirSync('/proc/self/fd').length;
    const peer = await stallingPeer('flood', listener.address as string, 400);
    try {
      const client = mp.connection.Client(listener.address, { authkey: 'secret' });
      let most = 0;
      let refused = 0;
      const started = Date.now();
      let accepted: mp.connection.Connection | undefined;
      while (accepted === undefined) {
        try {
          accepted = await withTimeout(listener.accept(), 'accept');
        } catch (error) {
          assert.equal((error as Error).name, 'AuthenticationError');
          refused++;
        }
        most = Math.max(most, fs.readdirSync('/proc/self/fd').length - before);
      }
      assert.ok(Date.now() - started < 5000, `the real client waited ${Date.now() - started} ms`);
      assert.ok(refused >= 400 - 128, `only ${refused} silent peers were dropped`);
      // 128 handshakes at most, each a connection.
      assert.ok(most <= 128 + 8, `the listener held ${most} more descriptors`);
      const conn = await withTimeout(client, 'Client');
      conn.send('hello');
      assert.equal(await withTimeout(accepted.recv(), 'recv'), 'hello');
      conn.close();
      accepted.close();
    } finally {
      listener.close();
      peer.child.kill('SIGKILL');
    }
  });

  it('a Client facing a server that never answers gives up at its deadline', async () => {
    const placeholder = new mp.connection.Listener();
    const address = path.join(path.dirname(placeholder.address as string), 'mute');
    placeholder.close();
    const mute = native.unixListen(address, 4);
    try {
      await assert.rejects(withTimeout(mp.connection.Client(address, { authkey: 'k' }), 'Client'), { name: 'AuthenticationError' });
    } finally {
      native.closeFd(mute);
      fs.rmSync(address, { force: true });
    }
  });

  it('a pending accept() rejects when the listener is closed, and nothing stays open', async () => {
    const listener = new mp.connection.Listener(null, { authkey: 'k' });
    const peer = await stallingPeer('silent', listener.address as string);
    try {
      const accepting = listener.accept();
      setImmediate(() => listener.close());
      await assert.rejects(withTimeout(accepting, 'accept'), { name: 'ProcessError', message: /closed/ });
    } finally {
      peer.child.kill('SIGKILL');
    }
  });
});
