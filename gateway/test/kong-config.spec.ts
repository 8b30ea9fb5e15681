import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { findKongRoute, kongRoutes, matchesKongRoute, type KongRoute } from '../kong-routes';

const gatewayDir = join(__dirname, '..');
const kongYamlText = readFileSync(join(gatewayDir, 'kong.yml'), 'utf8');
const schema: unknown = JSON.parse(readFileSync(join(gatewayDir, 'kong.schema.json'), 'utf8'));
const devPublicKey = readFileSync(join(gatewayDir, 'dev-keys', 'dev-issuer.pub.pem'), 'utf8');

type Doc = Record<string, unknown>;
const loadDoc = (): Doc => parse(kongYamlText) as Doc;

// Ajv's default strict mode (unknown keywords, formats and ignored keywords are errors).
const ajv = new Ajv({ allErrors: true });
const validate = ajv.compile(schema as object);
const describeErrors = (): string => ajv.errorsText(validate.errors, { separator: '\n' });

const TWO_MIB = 2 * 1024 * 1024;
const DEV_ISSUER = 'clinisync-dev';

/** The public surface of PROTOCOL.md: method, a concrete path, the service that must get it. */
const PUBLIC: ReadonlyArray<readonly [method: string, path: string, service: string]> = [
  ['POST', '/api/v1/sync/push', 'sync-ingest'],
  ['GET', '/api/v1/sync/pull', 'sync-ingest'],
  ['GET', '/api/v1/sync/pull?cursor=abc&limit=1000&entities=patients,visits', 'sync-ingest'],
  ['GET', '/api/v1/records/patients', 'sync-ingest'],
  ['GET', '/api/v1/records/patients?patientId=p1&limit=10', 'sync-ingest'],
  ['GET', '/api/v1/records/patients/0193f0c2-0000-7000-8000-000000000001', 'sync-ingest'],
  ['GET', '/api/v1/sync/conflicts', 'sync-ingest'],
  ['GET', '/api/v1/sync/conflicts?status=open', 'sync-ingest'],
  ['POST', '/api/v1/sync/conflicts/c-123/resolve', 'sync-ingest'],
  ['POST', '/api/v1/sync/queue', 'sync-ingest'],
  ['GET', '/api/v1/sync/pending?deviceId=tablet-7', 'sync-ingest'],
  ['POST', '/api/v1/sync/process/q-1', 'sync-ingest'],
  ['PATCH', '/api/v1/sync/resolve/q-1?resolution=CLIENT_WINS', 'sync-ingest'],
  ['POST', '/api/v1/sync/retry?deviceId=tablet-7', 'sync-ingest'],
  ['GET', '/api/v1/sync/stats', 'sync-ingest'],
  ['GET', '/api/v1/audit/events', 'audit'],
  ['GET', '/api/v1/audit/events?type=conflict&limit=10', 'audit'],
  ['GET', '/api/v1/audit/events/ev-1', 'audit'],
  ['GET', '/api/v1/audit/verify?from=2026-01-01', 'audit'],
  ['GET', '/api/v1/audit/export?format=ndjson', 'audit'],
];

/** Must never be routed: health, metrics, internals, near-misses of public paths, wrong methods. */
const NOT_PUBLIC: ReadonlyArray<readonly [method: string, path: string]> = [
  ['GET', '/health/live'],
  ['GET', '/health/ready'],
  ['GET', '/metrics'],
  ['GET', '/api/v1/health/live'],
  ['GET', '/api/v1/metrics'],
  ['GET', '/'],
  ['GET', '/api/v1'],
  ['GET', '/internal/changes'],
  ['POST', '/api/v1/sync/push/extra'],
  ['POST', '/api/v1/sync/pushx'],
  ['POST', '/api/v1/sync/push/'],
  ['POST', '/api/v2/sync/push'],
  ['POST', '/x/api/v1/sync/push'],
  ['GET', '/api/v1/sync/push'],
  ['DELETE', '/api/v1/records/patients/p1'],
  ['GET', '/api/v1/records/patients/p1/history'],
  ['GET', '/api/v1/records'],
  ['GET', '/api/v1/records/'],
  ['POST', '/api/v1/sync/conflicts/c-1'],
  ['POST', '/api/v1/sync/conflicts//resolve'],
  ['GET', '/api/v1/sync/conflicts/c-1/resolve'],
  ['POST', '/api/v1/sync/process'],
  ['POST', '/api/v1/sync/resolve/q-1'],
  ['POST', '/api/v1/audit/events'],
  ['DELETE', '/api/v1/audit/events/ev-1'],
  ['GET', '/api/v1/audit/events/ev-1/raw'],
];

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

function sizeInBytes(config: Readonly<Record<string, unknown>>): number {
  const size = config['allowed_payload_size'];
  if (typeof size !== 'number') throw new Error('allowed_payload_size missing');
  switch (config['size_unit'] ?? 'megabytes') {
    case 'bytes':
      return size;
    case 'kilobytes':
      return size * 1024;
    case 'megabytes':
      return size * 1024 * 1024;
    default:
      throw new Error(`unknown size_unit ${String(config['size_unit'])}`);
  }
}

function pluginOf(route: KongRoute, name: string): Readonly<Record<string, unknown>> {
  const config = route.pluginConfig[name];
  if (config === undefined) throw new Error(`route ${route.name} has no ${name} plugin`);
  return config;
}

describe('gateway/kong.yml against gateway/kong.schema.json', () => {
  it('is valid', () => {
    const ok = validate(loadDoc());
    expect(ok ? '' : describeErrors()).toBe('');
  });

  const first = (list: unknown): Doc => {
    const item: unknown = Array.isArray(list) ? list[0] : undefined;
    if (typeof item !== 'object' || item === null) throw new Error('fixture: empty list');
    return item as Doc;
  };
  /** The plugin `name` in the plugins list of `holder` (the document, a service or a route). */
  const plugin = (holder: Doc, name: string): Doc => {
    const found = (holder['plugins'] as Doc[]).find((p) => p['name'] === name);
    if (found === undefined) throw new Error(`fixture: no ${name} plugin`);
    return found;
  };
  const firstRoute = (d: Doc): Doc => first(first(d['services'])['routes']);
  const firstJwtSecret = (d: Doc): Doc => first(first(d['consumers'])['jwt_secrets']);

  const broken: ReadonlyArray<readonly [string, (doc: Doc) => void]> = [
    ['a misspelt plugin name', (d) => (first(d['plugins'])['name'] = 'rate-limitting')],
    [
      'a misspelt rate-limiting option',
      (d) => {
        const config = plugin(d, 'rate-limiting')['config'] as Doc;
        delete config['fault_tolerant'];
        config['fault_tolerent'] = false;
      },
    ],
    ['an unknown service field', (d) => (first(d['services'])['urll'] = 'http://x:1')],
    ['a route without strip_path', (d) => delete firstRoute(d)['strip_path']],
    ['a lower-case method', (d) => (firstRoute(d)['methods'] = ['post'])],
    ['a path without leading slash', (d) => (firstRoute(d)['paths'] = ['api'])],
    ['another format version', (d) => (d['_format_version'] = '2.1')],
    ['a symmetric jwt secret', (d) => (firstJwtSecret(d)['algorithm'] = 'HS256')],
    ['a PEM that is not a public key', (d) => (firstJwtSecret(d)['rsa_public_key'] = 'secret')],
    [
      'request size in an unknown unit',
      (d) => ((plugin(d, 'request-size-limiting')['config'] as Doc)['size_unit'] = 'mebibytes'),
    ],
    [
      'redis policy without redis settings',
      (d) => delete (plugin(d, 'rate-limiting')['config'] as Doc)['redis'],
    ],
    [
      'acl with neither allow nor deny',
      (d) => {
        const audit = (d['services'] as Doc[]).find((svc) => svc['name'] === 'audit');
        if (audit === undefined) throw new Error('fixture: no audit service');
        delete (plugin(audit, 'acl')['config'] as Doc)['allow'];
      },
    ],
  ];

  it.each(broken)('rejects a copy with %s', (_what, mutate) => {
    const doc = loadDoc();
    mutate(doc);
    expect(validate(doc)).toBe(false);
  });
});

describe('gateway routes', () => {
  const routes = kongRoutes(loadDoc());

  it.each(PUBLIC)('%s %s goes to %s', (method, path, service) => {
    const matching = routes.filter(
      (r) => r.methods.includes(method) && r.pathRegex.test(path.split('?')[0]!),
    );
    expect(matching.map((r) => r.service)).toEqual([service]);
    expect(findKongRoute(routes, method, path)?.service).toBe(service);
  });

  it.each(NOT_PUBLIC)('does not route %s %s', (method, path) => {
    expect(matchesKongRoute(routes, method, path)).toBe(false);
  });

  it('has no route beyond the public surface (each route serves some public path)', () => {
    const used = new Set(PUBLIC.map(([m, p]) => findKongRoute(routes, m, p)?.name));
    expect(routes.map((r) => r.name).filter((n) => !used.has(n))).toEqual([]);
    expect(routes).toHaveLength(16);
  });

  it('never matches a health or metrics path, whatever the method or prefix', () => {
    const probes = ['/health', '/health/live', '/health/ready', '/metrics', '/status', '/status/ready'];
    for (const route of routes) {
      for (const path of route.paths) expect(path).not.toMatch(/health|metrics/i);
      for (const probe of probes) {
        for (const method of HTTP_METHODS) expect(matchesKongRoute([route], method, probe)).toBe(false);
      }
    }
  });

  it('uses only anchored, whole-path regex routes under /api/v1 with strip_path false', () => {
    const doc = loadDoc();
    for (const svc of doc['services'] as Doc[]) {
      for (const route of svc['routes'] as Doc[]) {
        expect(route['strip_path']).toBe(false);
        for (const path of route['paths'] as string[]) expect(path).toMatch(/^~\/api\/v1\/.*\$$/);
      }
    }
  });

  it('proxies only to the public services, on their ports', () => {
    const services = (loadDoc()['services'] as Doc[]).map((s) => [s['name'], s['url']]);
    expect(services).toEqual([
      ['sync-ingest', 'http://sync-ingest:3100'],
      ['audit', 'http://audit:3200'],
    ]);
  });
});

describe('gateway plugins', () => {
  const doc = loadDoc();
  const routes = kongRoutes(doc);
  const auditRoutes = routes.filter((r) => r.service === 'audit');

  it('puts every route behind jwt keyed by the issuer, verifying exp, never reading the query string', () => {
    for (const route of routes) {
      const jwt = pluginOf(route, 'jwt');
      expect(jwt['key_claim_name']).toBe('iss');
      expect(jwt['claims_to_verify']).toContain('exp');
      expect(jwt['uri_param_names']).toEqual([]);
    }
  });

  it('has a consumer for the dev issuer with the RS256 dev public key', () => {
    const secrets = (doc['consumers'] as Doc[]).flatMap((c) => (c['jwt_secrets'] as Doc[] | undefined) ?? []);
    const keys = secrets.map((s) => s['key']);
    expect(new Set(keys).size).toBe(keys.length);
    const dev = secrets.find((s) => s['key'] === DEV_ISSUER);
    expect(dev?.['algorithm']).toBe('RS256');
    expect(dev?.['rsa_public_key']).toBe(devPublicKey);
    for (const secret of secrets) {
      const key = createPublicKey(String(secret['rsa_public_key']));
      expect(key.asymmetricKeyType).toBe('rsa');
      expect(key.asymmetricKeyDetails?.modulusLength).toBeGreaterThanOrEqual(2048);
    }
  });

  it('allows only the auditor group on audit routes and only the clinical group on every other route', () => {
    expect(auditRoutes).toHaveLength(4);
    for (const route of routes) {
      const acl = pluginOf(route, 'acl');
      expect({ route: route.name, allow: acl['allow'] }).toEqual({ route: route.name, allow: [route.service === 'audit' ? 'auditor' : 'clinical'] });
      expect(acl['deny']).toBeUndefined();
      expect(acl['hide_groups_header']).toBe(true);
    }
    expect(routes.filter((r) => r.service !== 'audit').length).toBeGreaterThan(0);
  });

  it('puts each consumer (issuer) only in the ACL groups of the roles it issues', () => {
    for (const consumer of doc['consumers'] as Doc[]) {
      const groups = ((consumer['acls'] as Doc[] | undefined) ?? []).map((a) => a['group']);
      expect(groups.length).toBeGreaterThan(0);
      for (const group of groups) expect(['clinical', 'auditor']).toContain(group);
    }
    // The dev issuer (`npm run token`) signs every role, so it is in both groups.
    const dev = (doc['consumers'] as Doc[]).find((c) =>
      ((c['jwt_secrets'] as Doc[] | undefined) ?? []).some((s) => s['key'] === DEV_ISSUER),
    );
    expect(((dev?.['acls'] as Doc[] | undefined) ?? []).map((a) => a['group']).sort()).toEqual(['auditor', 'clinical']);
  });

  it('gives production one issuer per role group: a clinical one and an auditors\' one, never both', () => {
    const prod = parse(readFileSync(join(gatewayDir, '..', 'deploy', 'overlays', 'prod', 'kong-consumers.yml'), 'utf8')) as Doc;
    const groupsOf = (c: Doc) => ((c['acls'] as Doc[] | undefined) ?? []).map((a) => a['group']);
    const consumers = prod['consumers'] as Doc[];
    for (const consumer of consumers) expect({ consumer: consumer['username'], groups: groupsOf(consumer).length }).toEqual({ consumer: consumer['username'], groups: 1 });
    expect(consumers.map(groupsOf).flat().sort()).toEqual(['auditor', 'clinical']);
  });

  it.each<[string, string, string]>([
    ['a clinical issuer', 'POST', '/api/v1/sync/push'],
    ['a clinical issuer', 'GET', '/api/v1/records/patients'],
    ['an auditors\' issuer', 'GET', '/api/v1/audit/events'],
  ])('lets only %s through %s %s', (_who, method, path) => {
    const route = findKongRoute(routes, method, path) as KongRoute;
    const allowed = (groups: string[]) => (pluginOf(route, 'acl')['allow'] as string[]).some((g) => groups.includes(g));
    const clinicalOnly = ['clinical'];
    const auditorOnly = ['auditor'];
    expect([allowed(clinicalOnly), allowed(auditorOnly)]).toEqual(route.service === 'audit' ? [false, true] : [true, false]);
  });

  it('limits request bodies to 2 MiB on every route (= sync-ingest BODY_LIMIT_BYTES)', () => {
    for (const route of routes) expect(sizeInBytes(pluginOf(route, 'request-size-limiting'))).toBe(TWO_MIB);
  });

  it('rate limits every route per consumer in Redis, failing closed', () => {
    for (const route of routes) {
      const rl = pluginOf(route, 'rate-limiting');
      expect(rl['fault_tolerant']).toBe(false);
      expect(rl['policy']).toBe('redis');
      expect(rl['limit_by']).toBe('consumer');
      expect(rl['redis']).toMatchObject({ host: 'redis', port: 6379 });
    }
  });

  it('propagates X-Correlation-Id and echoes it downstream on every route', () => {
    for (const route of routes) {
      const cid = pluginOf(route, 'correlation-id');
      expect(cid['header_name']).toBe('X-Correlation-Id');
      expect(cid['echo_downstream']).toBe(true);
    }
  });

  it('exports prometheus metrics for every route', () => {
    for (const route of routes) expect(route.plugins).toContain('prometheus');
  });
});

describe('kongRoutes / matchesKongRoute', () => {
  const doc = {
    _format_version: '3.0',
    plugins: [
      { name: 'jwt', config: { key_claim_name: 'iss' } },
      { name: 'acl', config: { allow: ['a'] }, route: 'r2' },
      { name: 'prometheus', config: {}, enabled: false },
    ],
    services: [
      {
        name: 's',
        url: 'http://s:1',
        plugins: [{ name: 'jwt', config: { key_claim_name: 'sub' } }],
        routes: [
          { name: 'r1', paths: ['/prefix'], strip_path: false },
          {
            name: 'r2',
            paths: ['~/a/[^/]+$', '~/b$'],
            methods: ['get'],
            strip_path: false,
            plugins: [{ name: 'jwt', config: { key_claim_name: 'kid' } }],
          },
        ],
      },
    ],
  };
  const routes = kongRoutes(doc);

  it('treats plain paths as prefixes and accepts any method when none is listed', () => {
    expect(findKongRoute(routes, 'DELETE', '/prefix')?.name).toBe('r1');
    expect(findKongRoute(routes, 'get', '/prefixed/x')?.name).toBe('r1');
    expect(matchesKongRoute(routes, 'GET', '/other')).toBe(false);
  });

  it('anchors regex paths at the start and ORs several paths', () => {
    expect(findKongRoute(routes, 'GET', '/a/1?x=/')?.name).toBe('r2');
    expect(findKongRoute(routes, 'GET', '/b')?.name).toBe('r2');
    expect(matchesKongRoute(routes, 'GET', '/x/a/1')).toBe(false);
    expect(matchesKongRoute(routes, 'POST', '/b')).toBe(false);
  });

  it('resolves plugin precedence route > service > global and skips disabled plugins', () => {
    const [r1, r2] = routes;
    expect(r1?.pluginConfig['jwt']).toEqual({ key_claim_name: 'sub' });
    expect(r2?.pluginConfig['jwt']).toEqual({ key_claim_name: 'kid' });
    expect(r1?.plugins).toEqual(['jwt']);
    expect(r2?.plugins).toEqual(['acl', 'jwt']);
  });

  it('throws on a structurally broken document', () => {
    expect(() => kongRoutes({ services: [{ routes: [] }] })).toThrow(/services\[0\]\.name/);
    expect(() => kongRoutes([])).toThrow(/mapping/);
  });
});
