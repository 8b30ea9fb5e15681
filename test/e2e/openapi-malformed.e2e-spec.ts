import { randomUUID } from 'node:crypto';
import { Platform, startPlatform } from '../support/platform';
import { AuditServiceHandle, startAuditService } from '../support/audit-service';
import {
  HTTP_METHODS,
  JsonSchema,
  OpenApiDocument,
  OpenApiOperation,
  fetchDocument,
} from '../support/openapi';

/** One malformed call, built from an operation of the document. */
interface Case {
  what: string;
  path: string;
  query?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Certainly refused (4xx); otherwise it may also succeed, as documented. */
  refused: boolean;
}

interface Answer {
  service: string;
  route: string;
  what: string;
  status: number;
  documented: boolean;
  refused: boolean;
  /** The operation takes parameters or a body. */
  inputs: boolean;
}

const BIG = 'x'.repeat(100 * 1024);
/** Query strings stay below Node's 16 KiB header limit (beyond it Node itself answers 431). */
const LONG = 'q'.repeat(4 * 1024);
const DEEP = 10_000;
const deepJson = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);

/** A well-formed value for a schema (the base every malformed body varies one member of). */
function sample(schema: JsonSchema | undefined): unknown {
  if (!schema) return 'x';
  if (schema.enum) return schema.enum[0];
  switch (schema.type) {
    case 'object':
      return Object.fromEntries(
        Object.entries(schema.properties ?? {})
          .filter(([k]) => schema.required?.includes(k))
          .map(([k, s]) => [k, sample(s)]),
      );
    case 'array':
      return [sample(schema.items)];
    case 'integer':
    case 'number':
      return Math.max(1, schema.minimum ?? 1);
    case 'boolean':
      return true;
    default:
      return schema.format === 'uuid'
        ? randomUUID()
        : schema.format === 'date-time'
          ? new Date().toISOString()
          : 'x';
  }
}

const WRONG: { what: string; value: unknown; json: string }[] = [
  { what: 'null', value: null, json: 'null' },
  { what: 'an array', value: [], json: 'array' },
  { what: 'an object', value: {}, json: 'object' },
  { what: 'a number', value: -1, json: 'number' },
  { what: 'a boolean', value: true, json: 'boolean' },
  { what: 'a 100 KB string', value: BIG, json: 'string' },
];
const fits = (schema: JsonSchema, json: string) =>
  schema.type === json ||
  (schema.type === 'integer' && json === 'number') ||
  (schema.type === undefined && schema.enum === undefined);

/** Every (path, schema) of a body schema down to `depth` levels, with array items as `[0]`. */
function members(
  schema: JsonSchema,
  at: (string | number)[] = [],
  depth = 3,
): { at: (string | number)[]; schema: JsonSchema }[] {
  if (depth === 0) return [];
  const out: { at: (string | number)[]; schema: JsonSchema }[] = [];
  for (const [k, s] of Object.entries(schema.properties ?? {})) {
    out.push({ at: [...at, k], schema: s });
    out.push(...members(s, [...at, k], depth - 1));
  }
  if (schema.type === 'array' && schema.items) {
    out.push({ at: [...at, 0], schema: schema.items });
    out.push(...members(schema.items, [...at, 0], depth - 1));
  }
  return out;
}

function withMember(base: unknown, at: (string | number)[], value: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(base)) as Record<string | number, unknown>;
  let node: Record<string | number, unknown> = copy;
  at.slice(0, -1).forEach((step, i) => {
    if (typeof node[step] !== 'object' || node[step] === null)
      node[step] = typeof at[i + 1] === 'number' ? [] : {};
    node = node[step] as Record<string | number, unknown>;
  });
  node[at[at.length - 1]] = value;
  return copy;
}

/** Malformed calls for one operation, from its parameters and request body schema. */
function casesFor(path: string, op: OpenApiOperation): Case[] {
  const params = op.parameters ?? [];
  const pathParams = params.filter((p) => p.in === 'path');
  const fill = (over: Record<string, string> = {}) =>
    path.replace(/\{([^}]+)\}/g, (_, name: string) =>
      encodeURIComponent(over[name] ?? String(sample(pathParams.find((p) => p.name === name)?.schema))),
    );
  const query = params.filter((p) => p.in === 'query');
  const requiredQuery = query
    .filter((p) => p.required)
    .map((p) => `${p.name}=${encodeURIComponent(String(sample(p.schema)))}`)
    .join('&');
  const schema = op.requestBody?.content['application/json']?.schema;
  const base = schema ? sample(schema) : undefined;
  const json = base === undefined ? undefined : JSON.stringify(base);
  const cases: Case[] = [
    {
      what: 'no token',
      path: fill(),
      query: requiredQuery,
      body: json,
      headers: { authorization: '' },
      refused: true,
    },
    {
      what: 'a bad token',
      path: fill(),
      query: requiredQuery,
      body: json,
      headers: { authorization: 'Bearer not.a.jwt' },
      refused: true,
    },
    {
      what: 'a Basic credential',
      path: fill(),
      query: requiredQuery,
      body: json,
      headers: { authorization: 'Basic dTpw' },
      refused: true,
    },
    {
      what: 'an 8 KB bearer token',
      path: fill(),
      query: requiredQuery,
      body: json,
      headers: { authorization: `Bearer ${'a'.repeat(8 * 1024)}` },
      refused: true,
    },
  ];
  for (const p of pathParams) {
    for (const v of ['\u0000', '-1', 'abc', LONG, '%', '..', 'null'])
      cases.push({
        what: `path ${p.name}=${JSON.stringify(v.slice(0, 8))}`,
        path: fill({ [p.name]: v }),
        query: requiredQuery,
        body: json,
        refused: false,
      });
  }
  for (const p of query) {
    const rest = requiredQuery
      .split('&')
      .filter((kv) => kv && !kv.startsWith(`${p.name}=`))
      .join('&');
    const bad = [
      '-1',
      'abc',
      '%00',
      '',
      '0',
      '99999999999999999999',
      'null',
      encodeURIComponent(LONG),
      encodeURIComponent('{"a":1}'),
    ];
    for (const v of bad)
      cases.push({
        what: `${p.name}=${v.slice(0, 12)}`,
        path: fill(),
        query: [rest, `${p.name}=${v}`].filter(Boolean).join('&'),
        body: json,
        refused: false,
      });
    cases.push({
      what: `${p.name} repeated`,
      path: fill(),
      query: [rest, `${p.name}=1&${p.name}=2`].filter(Boolean).join('&'),
      body: json,
      refused: false,
    });
    cases.push({
      what: `${p.name}[] as an array`,
      path: fill(),
      query: [rest, `${p.name}[]=1`].filter(Boolean).join('&'),
      body: json,
      refused: false,
    });
  }
  cases.push({
    what: 'an unknown query parameter',
    path: fill(),
    query: [requiredQuery, 'zz=1'].filter(Boolean).join('&'),
    body: json,
    refused: false,
  });
  if (schema) {
    for (const w of WRONG)
      cases.push({
        what: `body ${w.what}`,
        path: fill(),
        query: requiredQuery,
        body: JSON.stringify(w.value),
        refused: w.json !== 'object',
      });
    cases.push({ what: 'body not JSON', path: fill(), query: requiredQuery, body: '{"a":', refused: true });
    cases.push({
      what: `body nested ${DEEP} levels`,
      path: fill(),
      query: requiredQuery,
      body: deepJson(DEEP),
      refused: true,
    });
    cases.push({
      what: 'body a 3 MB string',
      path: fill(),
      query: requiredQuery,
      body: JSON.stringify('y'.repeat(3 * 1024 * 1024)),
      refused: true,
    });
    for (const m of members(schema)) {
      for (const w of WRONG) {
        cases.push({
          what: `body ${m.at.join('.')} = ${w.what}`,
          path: fill(),
          query: requiredQuery,
          body: JSON.stringify(withMember(base, m.at, w.value)),
          refused: !fits(m.schema, w.json),
        });
      }
      const deep = JSON.stringify(withMember(base, m.at, '__DEEP__')).replace('"__DEEP__"', deepJson(DEEP));
      cases.push({
        what: `body ${m.at.join('.')} nested ${DEEP} levels`,
        path: fill(),
        query: requiredQuery,
        body: deep,
        refused: m.schema.type !== 'object' && m.schema.type !== undefined,
      });
    }
  } else {
    cases.push({
      what: 'an unexpected body not JSON',
      path: fill(),
      query: requiredQuery,
      body: '{"a":',
      refused: false,
    });
    cases.push({
      what: `an unexpected body nested ${DEEP} levels`,
      path: fill(),
      query: requiredQuery,
      body: deepJson(DEEP),
      refused: false,
    });
  }
  return cases;
}

async function send(baseUrl: string, method: string, c: Case, token: string): Promise<number> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${token}`,
    ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...c.headers,
  };
  if (headers.authorization === '') delete headers.authorization;
  const res = await fetch(`${baseUrl}${c.path}${c.query ? `?${c.query}` : ''}`, {
    method: method.toUpperCase(),
    headers,
    body: method === 'get' ? undefined : c.body,
  });
  await res.arrayBuffer();
  return res.status;
}

describe('malformed calls to every documented operation (built from /api/docs-json)', () => {
  let p: Platform;
  let audit: AuditServiceHandle;
  const answers: Answer[] = [];
  let clinicalToken: string;
  let auditorToken: string;

  beforeAll(async () => {
    p = await startPlatform();
    audit = await startAuditService({
      dbOwnerUrl: p.db.ownerUrl,
      natsUrl: p.nats.url,
      devIssuerDir: p.env.AUTH_DEV_ISSUER_DIR,
    });
    const services: { name: string; baseUrl: string; token: string }[] = [
      {
        name: 'sync-ingest',
        baseUrl: p.baseUrl,
        token: (clinicalToken = await p.token({
          roles: ['nurse', 'clinician', 'admin'],
          facilities: ['f-1'],
        })),
      },
      {
        name: 'audit',
        baseUrl: audit.baseUrl,
        token: (auditorToken = await p.token({ sub: 'u-auditor', roles: ['auditor'], facilities: [] })),
      },
    ];
    for (const s of services) {
      const doc: OpenApiDocument = await fetchDocument(s.baseUrl);
      for (const [path, item] of Object.entries(doc.paths)) {
        if (!path.startsWith('/api/v1/')) continue;
        for (const method of HTTP_METHODS) {
          const op = item[method];
          if (!op) continue;
          const documented = new Set(Object.keys(op.responses).map(Number));
          const cases = casesFor(path, op);
          const inputs = (op.parameters ?? []).some((x) => x.in !== 'header') || op.requestBody !== undefined;
          // A few at a time: the platform shares the machine with the test.
          for (let i = 0; i < cases.length; i += 8) {
            const batch = cases.slice(i, i + 8);
            const statuses = await Promise.all(batch.map((c) => send(s.baseUrl, method, c, s.token)));
            batch.forEach((c, j) =>
              answers.push({
                service: s.name,
                route: `${method.toUpperCase()} ${path}`,
                what: c.what,
                status: statuses[j],
                documented: documented.has(statuses[j]),
                refused: c.refused,
                inputs,
              }),
            );
          }
        }
      }
    }
  }, 600_000);
  afterAll(async () => {
    await audit?.stop();
    await p?.stop();
  });

  it('sent a malformed call of every kind to all 16 operations', () => {
    expect(new Set(answers.map((a) => a.route)).size).toBe(16);
    expect(answers.length).toBeGreaterThan(700);
  });

  it('never answers a 5xx', () => {
    expect(answers.filter((a) => a.status >= 500)).toEqual([]);
  });

  it('answers only statuses the document lists for the operation', () => {
    expect(answers.filter((a) => !a.documented)).toEqual([]);
  });

  it('refuses every certainly malformed call (wrong type, no or bad token, bad JSON, deep nesting, too large) with a 4xx', () => {
    expect(answers.filter((a) => a.refused && (a.status < 400 || a.status >= 500))).toEqual([]);
  });

  it('answers 401 to every call without a valid bearer token', () => {
    const unauthenticated = answers.filter((a) =>
      ['no token', 'a bad token', 'a Basic credential', 'an 8 KB bearer token'].includes(a.what),
    );
    expect(unauthenticated.length).toBe(16 * 4);
    expect(unauthenticated.filter((a) => a.status !== 401)).toEqual([]);
  });

  it('gets past authentication with the valid token, so the malformed input itself is what is judged', () => {
    const authenticated = answers.filter(
      (a) => !['no token', 'a bad token', 'a Basic credential', 'an 8 KB bearer token'].includes(a.what),
    );
    expect(authenticated.filter((a) => a.status === 401)).toEqual([]);
    // Every operation with parameters or a body (all but GET /sync/stats) refuses some of its malformed input as bad input.
    const withInputs = new Set(answers.filter((a) => a.inputs).map((a) => a.route));
    const refusedAsBad = new Set(
      authenticated.filter((a) => a.status === 400 || a.status === 404).map((a) => a.route),
    );
    expect(withInputs.size).toBe(15);
    expect([...refusedAsBad].sort()).toEqual([...withInputs].sort());
  });

  it('answers a repeated or NUL query parameter, a non-UUID conflicts recordId, updatedSince=-1 and a NUL audit filter with 400 VALIDATION_FAILED', async () => {
    const ask = async (url: string, token: string) => {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as {
        error?: { code: string; message: string; details?: { path: string }[] };
      };
      return [res.status, body.error?.code, body.error?.details?.map((d) => d.path) ?? body.error?.message];
    };
    const api = `${p.baseUrl}/api/v1`;
    expect(await ask(`${api}/sync/pull?limit=1&limit=2`, clinicalToken)).toEqual([
      400,
      'VALIDATION_FAILED',
      'query parameter limit must be given once, as a plain value',
    ]);
    expect(await ask(`${api}/sync/pending?deviceId=a&deviceId=b`, clinicalToken)).toEqual([
      400,
      'VALIDATION_FAILED',
      'query parameter deviceId must be given once, as a plain value',
    ]);
    expect(await ask(`${api}/records/patients?facilityId=%00`, clinicalToken)).toEqual([
      400,
      'VALIDATION_FAILED',
      'query parameter facilityId must not contain NUL',
    ]);
    expect(await ask(`${api}/records/patients?updatedSince=-1`, clinicalToken)).toEqual([
      400,
      'VALIDATION_FAILED',
      ['updatedSince'],
    ]);
    expect(await ask(`${api}/sync/conflicts?recordId=abc`, clinicalToken)).toEqual([
      400,
      'VALIDATION_FAILED',
      ['recordId'],
    ]);
    expect(await ask(`${audit.baseUrl}/api/v1/audit/events?actor=%00`, auditorToken)).toEqual([
      400,
      'VALIDATION_FAILED',
      ['actor'],
    ]);
  });
});
