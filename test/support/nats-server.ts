import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private nats-server (JetStream, own store dir, free port) that a test may stop and restart. */
export interface TestNats {
  url: string;
  /** The server's process id while this helper runs it (undefined for a shared server). */
  pid(): number | undefined;
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

export function natsBinary(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v nats-server || ls /usr/sbin/nats-server 2>/dev/null'], { encoding: 'utf8' });
  return r.stdout.trim().split('\n')[0] || undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), done(true)));
    s.once('error', () => (s.destroy(), done(false)));
  });
}

async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Starts a private JetStream server when the binary exists; otherwise falls back to NATS_URL
 * (e.g. a testcontainers NATS), which cannot be stopped by the test.
 */
export async function startTestNats(): Promise<TestNats> {
  const bin = natsBinary();
  if (!bin) {
    const url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
    const fail = async () => {
      throw new Error('nats-server binary not available: this test needs to stop NATS');
    };
    return { url, pid: () => undefined, stop: fail, start: fail, dispose: async () => undefined };
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'clinisync-nats-'));
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], { stdio: 'ignore' });
    await until(() => portOpen(port), 10_000, 'nats-server to listen');
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    pid: () => child?.pid,
    start,
    stop,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
