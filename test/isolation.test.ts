// In a fork child only the target runs (as in Python): the parent's server,
// sockets, timers, immediates, next-ticks and microtasks stay the parent's.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

import * as mp from '../lib/index';

// These tests are about what a fork child inherits from its parent.
const ForkProcess = mp.getContext('fork').Process;
import { readLines, tempDir } from './support/helpers';

const JOIN_MS = 20000;

describe('fork child isolation', () => {
  let dir: string;
  before(() => {
    dir = tempDir();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("the parent's HTTP server and its keep-alive sockets are served by the parent alone", async () => {
    const server = http.createServer((req, res) => res.end(String(process.pid)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const get = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, agent, path: '/' }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d));
          res.on('end', () => resolve(body));
        });
        req.setTimeout(5000, () => req.destroy(new Error('request timed out')));
        req.on('error', reject);
      });
    try {
      // Open keep-alive connections before the children exist.
      await Promise.all(Array.from({ length: 8 }, get));
      const children = Array.from(
        { length: 20 },
        () => new ForkProcess({ target: () => new Promise((r) => setTimeout(r, 300)) }),
      );
      let hammering = true;
      const answers: string[] = [];
      const hammer = (async () => {
        while (hammering) {
          answers.push(...(await Promise.all(Array.from({ length: 8 }, get))));
          // fresh connections too
          answers.push(
            await new Promise<string>((resolve, reject) => {
              http
                .get({ host: '127.0.0.1', port, agent: false, path: '/' }, (res) => {
                  let body = '';
                  res.setEncoding('utf8').on('data', (d: string) => (body += d));
                  res.on('end', () => resolve(body));
                })
                .on('error', reject);
            }),
          );
        }
      })();
      children.forEach((c) => c.start());
      await Promise.all(children.map((c) => c.join(JOIN_MS)));
      hammering = false;
      await hammer;
      assert.deepEqual(
        children.map((c) => c.exitCode),
        children.map(() => 0),
      );
      assert.ok(answers.length >= 50, `only ${answers.length} requests were made`);
      const strangers = answers.filter((a) => a !== String(process.pid));
      assert.deepEqual(strangers, [], 'some requests were answered by another process');
    } finally {
      agent.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it("the parent's pending timers, immediates, next-ticks and microtasks do not run in the child", async () => {
    const out = path.join(dir, 'pending.txt');
    const mark = (what: string) => () => fs.appendFileSync(out, `${what} ${process.pid}\n`);
    const interval = setInterval(mark('interval'), 10);
    const timeout = setTimeout(mark('timeout'), 50);
    setImmediate(mark('immediate'));
    process.nextTick(mark('tick'));
    void Promise.resolve().then(mark('microtask'));
    const p = new ForkProcess({
      target: async () => {
        await new Promise((r) => setTimeout(r, 200));
        await new Promise((r) => setImmediate(r));
        await new Promise((r) => process.nextTick(r));
        mark('child')();
      },
    });
    p.start();
    await p.join(JOIN_MS);
    clearInterval(interval);
    clearTimeout(timeout);
    assert.equal(p.exitCode, 0);
    const lines = readLines(out);
    assert.deepEqual(
      lines.filter((l) => l.endsWith(` ${p.pid}`)),
      [`child ${p.pid}`],
    );
    for (const what of ['interval', 'timeout', 'immediate', 'tick', 'microtask']) {
      assert.ok(lines.includes(`${what} ${process.pid}`), `${what} did not run in the parent`);
    }
  });

  it('registerAtFork({ afterInChild }) can close what the child should not hold', async () => {
    const out = path.join(dir, 'atfork-close.txt');
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    let active = true;
    mp.registerAtFork({
      afterInChild: () => {
        if (!active) return;
        server.close();
        fs.writeFileSync(out, String(server.listening));
      },
    });
    const p = new ForkProcess({ target: () => {} });
    p.start();
    await p.join(JOIN_MS);
    active = false;
    assert.equal(fs.readFileSync(out, 'utf8'), 'false');
    assert.equal(server.listening, true);
    await new Promise((r) => server.close(r));
  });

  it("the child's stdin reads end-of-file, not the parent's input", async () => {
    const out = path.join(dir, 'stdin.txt');
    const p = new ForkProcess({
      target: () => {
        fs.writeFileSync(out, String(fs.readFileSync(0).length));
      },
    });
    p.start();
    await p.join(JOIN_MS);
    assert.equal(p.exitCode, 0);
    assert.equal(fs.readFileSync(out, 'utf8'), '0');
  });
});
