// A huddle-server child process for one test: loopback only, its own data directory, the web
// client from HUDDLE_WEB_DIR. kill9() is a real SIGKILL of this child; restart() brings it back on
// the same port with the same data directory. Every server started here is killed when the test
// process exits, whatever happened.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

export function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run the e2e tests through ctest, or see tests/e2e/README.md)`);
  return v;
}

export class HuddleServer {
  constructor(name, { extraArgs = [] } = {}) {
    this.extraArgs = extraArgs;
    this.bin = env('HUDDLE_SERVER');
    this.webDir = env('HUDDLE_WEB_DIR');
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `huddle-e2e-${name}-`));
    this.dataDir = path.join(this.dir, 'data');
    this.portFile = path.join(this.dir, 'port');
    this.port = 0;
    this.child = null;
    this.log = [];
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    fs.rmSync(this.portFile, { force: true });
    const args = [
      '--listen', `127.0.0.1:${this.port}`,
      '--data-dir', this.dataDir,
      '--web-dir', this.webDir,
      '--port-file', this.portFile,
      '--threads', '2',
      '--log-level', 'warn',
      ...this.extraArgs,
    ];
    const child = spawn(this.bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    live.add(child);
    const keep = (chunk) => {
      this.log.push(chunk.toString());
      if (this.log.length > 200) this.log.shift();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.exited = new Promise((resolve) => child.on('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    }));
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`huddle-server exited at start: ${this.log.join('')}`);
      }
      const text = fs.existsSync(this.portFile) ? fs.readFileSync(this.portFile, 'utf8').trim() : '';
      if (/^\d+$/.test(text)) {
        this.port = Number(text);
        const health = await fetch(`${this.url}/healthz`).catch(() => null);
        if (health?.ok) return this;
      }
      await sleep(50);
    }
    throw new Error(`huddle-server did not start in time: ${this.log.join('')}`);
  }

  // SIGKILL: no shutdown, no close frames; the browsers see the TCP connections drop.
  async kill9() {
    const child = this.child;
    if (!child) return;
    process.kill(child.pid, 'SIGKILL');
    await child.exited;
    this.child = null;
  }

  // Same port, same data directory.
  async restart() {
    if (this.child) await this.kill9();
    return this.start();
  }

  async stop() {
    const child = this.child;
    if (!child) return;
    this.child = null;
    child.kill('SIGTERM');
    const done = await Promise.race([child.exited, sleep(5000).then(() => null)]);
    if (!done) {
      child.kill('SIGKILL');
      await child.exited;
    }
  }

  cleanup() {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
