import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConnectionOptions, Events, JSONCodec, NatsConnection, connect, createInbox } from 'nats';
import { ClientProxyFactory, ServerNats, Transport } from '@nestjs/microservices';
import { firstValueFrom, of, throwError, timeout } from 'rxjs';
import { RelayEvent, RelaySource, TenantTransactions } from '@clinisync/persistence';
import { CloudEvent } from '@clinisync/contracts';
import {
  DurableConsumer,
  NatsLink,
  NatsSecuritySettings,
  OutboxRelay,
  auditStream,
  clinicalStream,
  ensureStream,
  natsSecurityOptions,
} from '@clinisync/messaging';
import { freePort, natsBinary } from '../../../test/support/nats-server';

/**
 * The committed NATS permissions (deploy/nats/auth.conf) against a real nats-server.
 * Real parts: nats-server (own port, own store dir, the committed auth.conf with random test
 * passwords, and once with TLS from deploy/nats/dev-tls.sh), the nats.js clients built by
 * natsSecurityOptions/NatsLink, OutboxRelay's publish path and DurableConsumer. Not real: the
 * relay's event source (in memory instead of an outbox table) and the module's command handler.
 */

const repoRoot = resolve(__dirname, '..', '..', '..');
const USERS = ['sync-ingest', 'audit', 'patients', 'pharmacy', 'inventory'] as const;
type User = (typeof USERS)[number];
const passwordVar = (u: User): string => `NATS_${u.toUpperCase().replace('-', '_')}_PASSWORD`;

/**
 * nats-server parses an environment variable's value as a config value: a password must read as
 * a bare string (a letter first, then letters and digits), as deploy/README.md tells operators.
 */
const testPasswords = (): Record<User, string> => Object.fromEntries(USERS.map((u) => [u, `p${randomBytes(12).toString('hex')}`])) as Record<User, string>;

interface TestServer {
  url: string;
  dir: string;
  stop(): Promise<void>;
}

async function until(cond: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A nats-server with JetStream and the committed auth.conf (plus `extra` config) on a free port. */
async function startServer(passwords: Record<User, string>, extra = ''): Promise<TestServer> {
  const bin = natsBinary();
  if (!bin) throw new Error('nats-server is required for this test (apt-get install nats-server)');
  const dir = mkdtempSync(join(tmpdir(), 'clinisync-nats-auth-'));
  const port = await freePort();
  // include paths are relative to the including file: the committed file is copied next to it.
  copyFileSync(join(repoRoot, 'deploy/nats/auth.conf'), join(dir, 'auth.conf'));
  writeFileSync(join(dir, 'server.conf'), `listen: 127.0.0.1:${port}\njetstream { store_dir: "${join(dir, 'js')}" }\n${extra}\ninclude ./auth.conf\n`);
  const env = { ...process.env, ...Object.fromEntries(USERS.map((u) => [passwordVar(u), passwords[u]])) };
  const child: ChildProcess = spawn(bin, ['-c', join(dir, 'server.conf')], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  try {
    await until(() => /Server is ready/.test(log) || child.exitCode !== null, 10_000, 'nats-server to start');
    if (child.exitCode !== null) throw new Error(`nats-server exited: ${log}`);
  } catch (e) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    dir,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An event source held in memory: what an outbox or the ledger would hand the relay. */
class MemorySource implements RelaySource {
  published: RelayEvent[] = [];
  constructor(private events: RelayEvent[]) {}
  async tryLease(): Promise<boolean> {
    return true;
  }
  async pending(_tx: unknown, limit: number): Promise<RelayEvent[]> {
    return this.events.slice(0, limit);
  }
  async markPublished(_tx: unknown, events: RelayEvent[], acked: number): Promise<void> {
    this.published.push(...events.slice(0, acked));
    this.events = this.events.slice(acked);
  }
  async lag(): Promise<{ pending: number; oldestSeconds: number }> {
    return { pending: this.events.length, oldestSeconds: 0 };
  }
}

const noTransactions = { runUnscoped: <T>(fn: (tx: unknown) => Promise<T>) => fn({}) } as unknown as TenantTransactions;
const quietObserver = { published: () => undefined, lag: () => undefined, failed: () => undefined };

const jc = JSONCodec();
const anEvent = (subject: string, tenant = 't1'): RelayEvent => {
  const id = randomBytes(8).toString('hex');
  const event: Partial<CloudEvent> = { specversion: '1.0', id, subject, type: 'test', tenantid: tenant, data: { n: id } };
  return { id, subject, payload: JSON.stringify(event) };
};

describe('NATS permissions (deploy/nats/auth.conf)', () => {
  const passwords = testPasswords();
  let server: TestServer;
  const server_ = (): TestServer => server;
  const links = new Map<User, NatsLink>();
  const violations = new Map<User, string[]>();

  const settings = (user: User): NatsSecuritySettings => ({ NATS_USER: user, NATS_PASSWORD: passwords[user] });
  const link = (user: User): NatsLink => {
    const l = links.get(user);
    if (!l) throw new Error(`no connection for ${user}`);
    return l;
  };

  /** The server's permission errors reported to `user`'s connection (`publish <subject>`, `subscription <subject>`). */
  const violationsOf = (user: User): string[] => violations.get(user) ?? [];

  /** Publishes as `user` and returns the permission errors the server answered (waits for one). */
  async function publishAs(user: User, subject: string): Promise<string[]> {
    const before = violationsOf(user).length;
    const nc = link(user).nc;
    nc.publish(subject, jc.encode({ forged: true }));
    await nc.flush();
    await until(() => violationsOf(user).length > before, 5_000, `a permission error for ${user} on ${subject}`).catch(() => undefined);
    return violationsOf(user).slice(before);
  }

  async function streamMessages(stream: string): Promise<number> {
    const jsm = await link('patients').nc.jetstreamManager();
    return (await jsm.streams.info(stream)).state.messages;
  }

  beforeAll(async () => {
    server = await startServer(passwords);
    for (const user of USERS) {
      const l = await NatsLink.connect({ servers: [server.url], name: `${user}-permissions-test` }, natsSecurityOptions(settings(user)));
      links.set(user, l);
      violations.set(user, []);
      void (async () => {
        for await (const s of l.nc.status()) {
          // nats.js reports a permission error with its operation and subject.
          const context = (s as { permissionContext?: { operation: string; subject: string } }).permissionContext;
          if (s.type === Events.Error && context) violations.get(user)?.push(`${context.operation} ${context.subject}`);
        }
      })();
    }
    // The modules and sync-ingest create the streams on start (ensureStream, INFO + CREATE only).
    await ensureStream(link('patients').nc, clinicalStream());
    await ensureStream(link('sync-ingest').nc, auditStream());
  });

  afterAll(async () => {
    for (const l of links.values()) await l.close();
    await server?.stop();
  });

  it('refuses a connection without credentials or with a wrong password', async () => {
    const attempt = (opts: Partial<ConnectionOptions>) => connect({ servers: [server.url], reconnect: false, ...opts });
    await expect(attempt({})).rejects.toThrow(/Authorization Violation/i);
    await expect(attempt({ user: 'patients', pass: 'not-the-password' })).rejects.toThrow(/Authorization Violation/i);
    await expect(attempt({ user: 'nobody', pass: passwords.patients })).rejects.toThrow(/Authorization Violation/i);
  });

  it('lets the relays publish to CLINICAL and AUDIT (own module subjects), and the streams store it', async () => {
    const clinical = await streamMessages('CLINICAL');
    const audit = await streamMessages('AUDIT');
    const patientsEvents = [anEvent('clinical.t1.patients.patients.created'), anEvent('audit.t1.write-denied')];
    const pharmacyEvents = [anEvent('clinical.t1.pharmacy.dispensing_records.created')];
    const ingestEvents = [anEvent('audit.t1.push-received')];
    for (const [user, events] of [['patients', patientsEvents], ['pharmacy', pharmacyEvents], ['sync-ingest', ingestEvents]] as const) {
      const source = new MemorySource([...events]);
      const relay = new OutboxRelay(noTransactions, source, link(user), quietObserver, { batchSize: 10, pollIntervalMs: 50, publishTimeoutMs: 5_000 });
      expect({ user, published: await relay.publishPending() }).toEqual({ user, published: events.length });
      expect(source.published.map((e) => e.id)).toEqual(events.map((e) => e.id));
    }
    expect(await streamMessages('CLINICAL')).toBe(clinical + 2);
    expect(await streamMessages('AUDIT')).toBe(audit + 2);
  });

  it.each<[User, string]>([
    ['patients', 'clinical.t1.pharmacy.dispensing_records.created'], // another module's events
    ['inventory', 'clinical.t1.patients.patients.created'],
    ['sync-ingest', 'clinical.t1.patients.patients.created'], // sync-ingest relays audit events only
    ['audit', 'audit.t1.write-denied'], // a consumer publishes nothing to the streams
    ['audit', 'clinical.t1.patients.patients.created'],
    ['inventory', '$JS.API.STREAM.DELETE.CLINICAL'], // nobody deletes or purges a stream
    ['audit', '$JS.API.STREAM.PURGE.AUDIT'],
    ['audit', '$JS.API.CONSUMER.CREATE.AUDIT.rogue'], // nor creates another consumer
  ])('refuses %s publishing to %s (permission violation), and the stream stores nothing', async (user, subject) => {
    const before = [await streamMessages('CLINICAL'), await streamMessages('AUDIT')];
    expect(await publishAs(user, subject)).toEqual([`publish ${subject}`]);
    expect([await streamMessages('CLINICAL'), await streamMessages('AUDIT')]).toEqual(before);
  });

  it('lets audit consume AUDIT through its durable consumer audit-store, acknowledging', async () => {
    const received: string[] = [];
    const before = violationsOf('audit').length;
    const consumer = new DurableConsumer(link('audit'), { stream: 'AUDIT', durable: 'audit-store', filterSubject: 'audit.>' });
    await consumer.start(async (event) => {
      received.push(event.id);
    });
    try {
      const event = anEvent('audit.t2.conflict-resolved', 't2');
      const relay = new OutboxRelay(noTransactions, new MemorySource([event]), link('patients'), quietObserver);
      expect(await relay.publishPending()).toBe(1);
      await until(() => received.includes(event.id), 10_000, 'audit to receive the event');
      const jsm = await link('audit').nc.jetstreamManager();
      await until(async () => (await jsm.consumers.info('AUDIT', 'audit-store')).num_ack_pending === 0, 10_000, 'the ack');
      expect(violationsOf('audit').slice(before)).toEqual([]);
    } finally {
      await consumer.stop();
    }
  });

  it("lets inventory consume pharmacy's dispensing events through inventory-dispensing", async () => {
    const received: string[] = [];
    const before = violationsOf('inventory').length;
    const consumer = new DurableConsumer(link('inventory'), {
      stream: 'CLINICAL',
      durable: 'inventory-dispensing',
      filterSubject: 'clinical.*.pharmacy.dispensing_records.created',
    });
    await consumer.start(async (event) => {
      received.push(event.id);
    });
    try {
      const event = anEvent('clinical.t3.pharmacy.dispensing_records.created', 't3');
      expect(await new OutboxRelay(noTransactions, new MemorySource([event]), link('pharmacy'), quietObserver).publishPending()).toBe(1);
      await until(() => received.includes(event.id), 10_000, 'inventory to receive the dispensing event');
      expect(violationsOf('inventory').slice(before)).toEqual([]);
    } finally {
      await consumer.stop();
    }
  });

  it('lets sync-ingest request a module command subject and the module reply', async () => {
    const module = link('patients').nc;
    const sub = module.subscribe('clinisync.patients.apply-batch', {
      queue: 'patients',
      callback: (_err, m) => m.respond(jc.encode({ results: [], echo: jc.decode(m.data) })),
    });
    await module.flush();
    try {
      const reply = await link('sync-ingest').nc.request('clinisync.patients.apply-batch', jc.encode({ token: 't', correlationId: 'c1' }), { timeout: 5_000 });
      expect(jc.decode(reply.data)).toEqual({ results: [], echo: { token: 't', correlationId: 'c1' } });
    } finally {
      sub.unsubscribe();
    }
  });

  it('carries a Nest command and its error answer between the sync-ingest and module transports (as deployed)', async () => {
    // The transports the services run (bootstrap.ts, sync-ingest's ModuleGateway), with their users.
    const server = new ServerNats({ servers: [server_().url], ...natsSecurityOptions(settings('pharmacy')), queue: 'pharmacy' });
    // An error answer as the module's RPC exception filter sends it: an erroring stream (an error
    // packet, then the disposal, up to two reply messages).
    server.addHandler('clinisync.pharmacy.read', async (request: { fail?: boolean }) =>
      request.fail ? throwError(() => ({ error: { code: 'UNAVAILABLE', message: 'refused' } })) : of({ items: [{ id: 'r1' }] }),
    );
    await new Promise<void>((done, fail) => void server.listen((err?: unknown) => (err ? fail(err) : done())));
    const client = ClientProxyFactory.create({ transport: Transport.NATS, options: { servers: [server_().url], ...natsSecurityOptions(settings('sync-ingest')) } });
    try {
      await client.connect();
      const ask = (payload: object) => firstValueFrom(client.send<unknown>('clinisync.pharmacy.read', payload).pipe(timeout(5_000)));
      expect(await ask({ token: 't' })).toEqual({ items: [{ id: 'r1' }] });
      await expect(ask({ fail: true })).rejects.toMatchObject({ error: { code: 'UNAVAILABLE' } });
      expect(await ask({ token: 't2' })).toEqual({ items: [{ id: 'r1' }] });
    } finally {
      await client.close();
      await server.close();
    }
  });

  it("refuses a module requesting another module's commands, or listening to them", async () => {
    expect(await publishAs('patients', 'clinisync.pharmacy.apply-batch')).toEqual(['publish clinisync.pharmacy.apply-batch']);
    expect(await publishAs('audit', 'clinisync.patients.apply-batch')).toEqual(['publish clinisync.patients.apply-batch']);
    const before = violationsOf('patients').length;
    const sub = link('patients').nc.subscribe('clinisync.pharmacy.feed');
    await link('patients').nc.flush();
    await until(() => violationsOf('patients').length > before, 5_000, 'a subscription violation');
    expect(violationsOf('patients').slice(before)).toEqual(['subscription clinisync.pharmacy.feed']);
    sub.unsubscribe();
  });

  it('refuses a module reply to a subject it received no request from', async () => {
    const inbox = createInbox();
    expect(await publishAs('patients', inbox)).toEqual([`publish ${inbox}`]);
  });
});

describe('NATS over TLS (deploy/nats/dev-tls.sh certificates)', () => {
  const passwords = testPasswords();
  let server: TestServer;
  let certs: string;

  beforeAll(async () => {
    certs = mkdtempSync(join(tmpdir(), 'clinisync-nats-tls-'));
    execFileSync('sh', [join(repoRoot, 'deploy/nats/dev-tls.sh'), certs], { stdio: 'ignore' });
    server = await startServer(passwords, `tls { cert_file: "${join(certs, 'server.pem')}", key_file: "${join(certs, 'server-key.pem')}", timeout: 2 }`);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(certs, { recursive: true, force: true });
  });

  it('connects with the CA of NATS_TLS_CA_FILE and a password, encrypted', async () => {
    const options = natsSecurityOptions({ NATS_USER: 'audit', NATS_PASSWORD: passwords.audit, NATS_TLS_CA_FILE: join(certs, 'ca.pem') });
    const nc: NatsConnection = await connect({ servers: [server.url], reconnect: false, ...options });
    try {
      expect(nc.info?.tls_required).toBe(true);
      await nc.flush();
    } finally {
      await nc.close();
    }
  });

  it('refuses a client that does not trust the server certificate, or speaks plain text', async () => {
    const auth = { user: 'audit', pass: passwords.audit };
    await expect(connect({ servers: [server.url], reconnect: false, ...auth })).rejects.toThrow();
    await expect(connect({ servers: [server.url], reconnect: false, ...auth, tls: null })).rejects.toThrow();
  });
});
