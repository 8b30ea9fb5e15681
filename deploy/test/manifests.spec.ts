/**
 * Invariants of the deployment files: Kubernetes manifests and kustomizations under deploy/,
 * docker-compose.yml, the NATS configs, the Citus script, and the copies of gateway files that the
 * overlays carry. Pure file checks, plus `kubectl kustomize` of every overlay (kubectl is required).
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import Ajv from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { kongRoutes } from '../../gateway/kong-routes';
import { DEV_ISSUER, derivedFiles, withDevIssuerKey } from '../tools/kong-config';

const repoRoot = resolve(__dirname, '..', '..');
const deployDir = join(repoRoot, 'deploy');
const readRepo = (repoPath: string): string => readFileSync(join(repoRoot, repoPath), 'utf8');

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const at = (v: unknown, ...path: string[]): unknown => path.reduce<unknown>((o, k) => obj(o)[k], v);

interface K8sObject extends Obj {
  apiVersion: string;
  kind: string;
  metadata: Obj;
}
const isK8s = (v: unknown): v is K8sObject =>
  isObj(v) && typeof v['apiVersion'] === 'string' && typeof v['kind'] === 'string' && isObj(v['metadata']);
const nameOf = (o: K8sObject): string => str(o.metadata['name']);
const idOf = (o: K8sObject): string => `${o.kind}/${nameOf(o)}`;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = join(dir, entry);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}

function parseYamlDocs(text: string, where: string): unknown[] {
  return parseAllDocuments(text).map((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`${where} (document ${i + 1}): ${doc.errors[0]?.message}`);
    return doc.toJS() as unknown;
  });
}

const yamlFiles = walk(deployDir).filter((f) => /\.ya?ml$/.test(f));
const docsByFile = new Map(
  yamlFiles.map((f) => [f, parseYamlDocs(readFileSync(f, 'utf8'), relative(repoRoot, f))]),
);
const isKustomization = (f: string): boolean => /(^|\/)kustomization\.ya?ml$/.test(f);
/** Kubernetes objects committed under deploy/ (kustomizations and generator inputs excluded). */
const committedObjects: K8sObject[] = [...docsByFile]
  .filter(([f]) => !isKustomization(f))
  .flatMap(([, docs]) => docs.filter(isK8s));

// ------------------------------------------------------------------------------------------------
// Checks shared by the committed manifests and the rendered overlays. Each returns violations.

/** Secret keys the manifests may reference; deploy/README.md documents each of them. */
const SECRET_NAME = 'clinisync-secrets';
/** The services, each with its own NATS user (deploy/nats/auth.conf) and password in the Secret. */
const NATS_USERS = ['sync-ingest', 'audit', 'patients', 'pharmacy', 'inventory'];
const natsPasswordVar = (user: string): string => `NATS_${user.toUpperCase().replace(/-/g, '_')}_PASSWORD`;
const SECRET_KEYS = [
  'database-url',
  'database-app-password',
  'database-relay-password',
  'cursor-secret',
  ...NATS_USERS.map((u) => `nats-${u}-password`),
];

const isAppImage = (image: string): boolean => /(^|\/)clinisync\/app(:|$)/.test(image);
const workloadKinds = new Set(['Deployment', 'StatefulSet', 'Job']);

function podSpec(o: K8sObject): Obj {
  return obj(at(o, 'spec', 'template', 'spec'));
}
function containers(o: K8sObject): Obj[] {
  const spec = podSpec(o);
  return [...arr(spec['initContainers']), ...arr(spec['containers'])].map(obj);
}
function podLabels(o: K8sObject): Obj {
  return obj(at(o, 'spec', 'template', 'metadata', 'labels'));
}
function selects(selector: unknown, labels: Obj): boolean {
  const match = obj(at(selector, 'matchLabels'));
  return Object.keys(match).length > 0 && Object.entries(match).every(([k, v]) => labels[k] === v);
}
const probePath = (c: Obj, probe: string): string => str(at(c, probe, 'httpGet', 'path'));

function resourceViolations(objects: K8sObject[]): string[] {
  const out: string[] = [];
  for (const o of objects.filter((x) => workloadKinds.has(x.kind))) {
    for (const c of containers(o)) {
      for (const field of ['requests', 'limits']) {
        for (const r of ['cpu', 'memory']) {
          if (at(c, 'resources', field, r) === undefined)
            out.push(`${idOf(o)}/${str(c['name'])}: no resources.${field}.${r}`);
        }
      }
    }
  }
  return out;
}

function probeViolations(objects: K8sObject[]): string[] {
  const out: string[] = [];
  for (const o of objects.filter((x) => x.kind === 'Deployment' || x.kind === 'StatefulSet')) {
    for (const c of containers(o)) {
      const id = `${idOf(o)}/${str(c['name'])}`;
      const image = str(c['image']);
      if (!isObj(c['livenessProbe']) || !isObj(c['readinessProbe'])) {
        out.push(`${id}: needs both livenessProbe and readinessProbe`);
        continue;
      }
      const expected = isAppImage(image)
        ? ['/health/live', '/health/ready']
        : image.startsWith('kong:')
          ? ['/status', '/status/ready']
          : undefined;
      if (expected === undefined) continue;
      const actual = [probePath(c, 'livenessProbe'), probePath(c, 'readinessProbe')];
      if (actual.join() !== expected.join())
        out.push(`${id}: probes ${actual.join(', ')}, expected ${expected.join(', ')}`);
      if (isAppImage(image)) {
        const port = arr(c['ports']).map(obj)[0];
        const envPort = arr(c['env'])
          .map(obj)
          .find((e) => e['name'] === 'PORT')?.['value'];
        if (String(port?.['containerPort']) !== str(envPort)) out.push(`${id}: containerPort != PORT env`);
        for (const p of ['livenessProbe', 'readinessProbe']) {
          const probePort = at(c, p, 'httpGet', 'port');
          if (probePort !== port?.['name'] && probePort !== port?.['containerPort'])
            out.push(`${id}: ${p} not on the http port`);
        }
      }
    }
  }
  return out;
}

function pdbViolations(objects: K8sObject[]): string[] {
  const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget');
  return objects
    .filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')
    .filter(
      (o) =>
        !pdbs.some(
          (p) =>
            p.metadata['namespace'] === o.metadata['namespace'] &&
            selects(at(p, 'spec', 'selector'), podLabels(o)),
        ),
    )
    .map((o) => `${idOf(o)}: no PodDisruptionBudget selects its pods`);
}

function hpaViolations(objects: K8sObject[]): string[] {
  const out: string[] = [];
  const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
  const targets = hpas.map(
    (h) => `${str(at(h, 'spec', 'scaleTargetRef', 'kind'))}/${str(at(h, 'spec', 'scaleTargetRef', 'name'))}`,
  );
  if (targets.join() !== 'Deployment/sync-ingest')
    out.push(`HPAs target [${targets.join(', ')}], expected [Deployment/sync-ingest]`);
  const hpa = hpas[0];
  if (
    hpa !== undefined &&
    !(Number(at(hpa, 'spec', 'minReplicas')) <= Number(at(hpa, 'spec', 'maxReplicas')))
  ) {
    out.push('HPA sync-ingest: minReplicas > maxReplicas');
  }
  const target = objects.find((o) => o.kind === 'Deployment' && nameOf(o) === 'sync-ingest');
  if (target === undefined) out.push('Deployment sync-ingest missing');
  else if (at(target, 'spec', 'replicas') !== undefined)
    out.push('Deployment sync-ingest sets replicas (the HPA owns them)');
  return out;
}

function secretViolations(objects: K8sObject[]): string[] {
  const out: string[] = [];
  for (const s of objects.filter((o) => o.kind === 'Secret')) {
    if (at(s, 'data') !== undefined || at(s, 'stringData') !== undefined)
      out.push(`${idOf(s)}: Secret with literal data`);
  }
  for (const o of objects.filter((x) => workloadKinds.has(x.kind))) {
    for (const c of containers(o)) {
      for (const e of arr(c['env']).map(obj)) {
        const ref = at(e, 'valueFrom', 'secretKeyRef');
        if (ref === undefined) continue;
        const key = str(at(ref, 'key'));
        if (str(at(ref, 'name')) !== SECRET_NAME || !SECRET_KEYS.includes(key)) {
          out.push(
            `${idOf(o)}: env ${str(e['name'])} refers to an undocumented secret ${str(at(ref, 'name'))}/${key}`,
          );
        }
      }
      for (const ef of arr(c['envFrom']).map(obj)) {
        if (ef['secretRef'] !== undefined)
          out.push(`${idOf(o)}: envFrom secretRef (reference keys one by one)`);
      }
    }
  }
  return out;
}

function exposureViolations(objects: K8sObject[]): string[] {
  return objects
    .filter((o) => o.kind === 'Service' && ['LoadBalancer', 'NodePort'].includes(str(at(o, 'spec', 'type'))))
    .filter((o) => nameOf(o) !== 'kong-proxy')
    .map((o) => `${idOf(o)}: only kong-proxy may be exposed outside the cluster`);
}

/** Every pod runs as a non-root user, and no container can gain privileges or write its image. */
function securityViolations(objects: K8sObject[]): string[] {
  const out: string[] = [];
  for (const o of objects.filter((x) => workloadKinds.has(x.kind))) {
    const pod = obj(podSpec(o)['securityContext']);
    for (const c of containers(o)) {
      const id = `${idOf(o)}/${str(c['name'])}`;
      const sc = obj(c['securityContext']);
      const setting = (key: string): unknown => (sc[key] !== undefined ? sc[key] : pod[key]);
      if (setting('runAsNonRoot') !== true) out.push(`${id}: runAsNonRoot is not true`);
      if (setting('runAsUser') === 0) out.push(`${id}: runs as uid 0`);
      if (sc['privileged'] === true) out.push(`${id}: privileged`);
      if (sc['allowPrivilegeEscalation'] !== false) out.push(`${id}: allowPrivilegeEscalation is not false`);
      if (sc['readOnlyRootFilesystem'] !== true) out.push(`${id}: readOnlyRootFilesystem is not true`);
      if (!arr(at(sc, 'capabilities', 'drop')).includes('ALL'))
        out.push(`${id}: does not drop ALL capabilities`);
    }
  }
  return out;
}

function imageViolations(objects: K8sObject[]): string[] {
  const out: string[] = [];
  for (const o of objects.filter((x) => workloadKinds.has(x.kind))) {
    for (const c of containers(o)) {
      if (/:latest$/.test(str(c['image']))) out.push(`${idOf(o)}: image ${str(c['image'])} uses :latest`);
    }
  }
  return out;
}

const allChecks = (objects: K8sObject[]): string[] => [
  ...resourceViolations(objects),
  ...probeViolations(objects),
  ...pdbViolations(objects),
  ...hpaViolations(objects),
  ...secretViolations(objects),
  ...exposureViolations(objects),
  ...securityViolations(objects),
  ...imageViolations(objects),
];

function natsConfigViolations(conf: string, routes: readonly string[], where: string): string[] {
  const text = conf.replace(/#.*$/gm, '');
  const out: string[] = [];
  const jetstream = /jetstream\s*\{([^}]*)\}/.exec(text)?.[1];
  if (jetstream === undefined) return [`${where}: no jetstream block`];
  if (!/^\s*sync_interval\s*[:=]\s*always\s*$/m.test(jetstream))
    out.push(`${where}: jetstream.sync_interval is not always`);
  if (!/^\s*store_dir\s*[:=]\s*\S+/m.test(jetstream)) out.push(`${where}: jetstream.store_dir missing`);
  const cluster = /cluster\s*\{([\s\S]*?)\n\}/.exec(text)?.[1] ?? '';
  for (const route of routes)
    if (!cluster.includes(route)) out.push(`${where}: cluster route ${route} missing`);
  return out;
}

// ------------------------------------------------------------------------------------------------

describe('deploy/ YAML', () => {
  it('parses every YAML file (multi-document)', () => {
    expect(yamlFiles.length).toBeGreaterThan(10);
    expect(committedObjects.length).toBeGreaterThan(20);
  });

  it('committed manifests satisfy the invariants', () => {
    expect(allChecks(committedObjects)).toEqual([]);
  });

  it('has a Deployment, Service and PDB per service, and a migrate Job', () => {
    const ids = new Set(committedObjects.map(idOf));
    for (const svc of ['sync-ingest', 'audit', 'patients', 'pharmacy', 'inventory', 'kong', 'redis']) {
      expect(ids).toContain(`Deployment/${svc}`);
      expect(ids).toContain(`PodDisruptionBudget/${svc}`);
    }
    for (const svc of ['sync-ingest', 'audit', 'patients', 'pharmacy', 'inventory', 'redis', 'kong-proxy']) {
      expect(ids).toContain(`Service/${svc}`);
    }
    const job = committedObjects.find((o) => o.kind === 'Job');
    expect(job && containers(job).map((c) => c['args'])).toEqual([['migrate']]);
  });

  it('runs every service from the one image, selected by its name', () => {
    for (const o of committedObjects.filter((x) => x.kind === 'Deployment')) {
      for (const c of containers(o).filter((x) => isAppImage(str(x['image']))))
        expect(c['args']).toEqual([nameOf(o)]);
    }
  });

  it('matches the Kong service URLs (service name and port) of gateway/kong.yml', () => {
    const services = committedObjects.filter((o) => o.kind === 'Service');
    const doc = obj(parse(readRepo('gateway/kong.yml')));
    for (const route of kongRoutes(doc)) {
      const url = str(
        arr(doc['services'])
          .map(obj)
          .find((s) => s['name'] === route.service)?.['url'],
      );
      const { hostname, port } = new URL(url);
      const svc = services.find((s) => nameOf(s) === hostname);
      expect(arr(at(svc, 'spec', 'ports')).map((p) => String(at(p, 'port')))).toContain(port);
    }
  });

  it('runs a 3-node NATS StatefulSet with JetStream file storage, fsync always', () => {
    const sts = committedObjects.find((o) => o.kind === 'StatefulSet' && nameOf(o) === 'nats');
    expect(at(sts, 'spec', 'replicas')).toBe(3);
    expect(arr(at(sts, 'spec', 'volumeClaimTemplates')).length).toBe(1);
    const routes = [0, 1, 2].map((i) => `nats-route://nats-${i}.nats-headless:6222`);
    expect(
      natsConfigViolations(readRepo('deploy/base/nats/nats.conf'), routes, 'base/nats/nats.conf'),
    ).toEqual([]);
  });

  it('commits no Secret values: no Secret objects, no secretGenerator', () => {
    expect(committedObjects.filter((o) => o.kind === 'Secret').map(idOf)).toEqual([]);
    for (const [file, docs] of docsByFile) {
      if (isKustomization(file))
        expect({ file, secretGenerator: obj(docs[0])['secretGenerator'] }).toEqual({
          file,
          secretGenerator: undefined,
        });
    }
  });

  it('documents every referenced secret key in deploy/README.md', () => {
    const readme = readRepo('deploy/README.md');
    for (const key of SECRET_KEYS) expect(readme).toContain(key);
  });
});

describe('kustomizations', () => {
  const kustomizations = [...docsByFile].filter(([f]) => isKustomization(f));

  it('exist for base and both overlays', () => {
    expect(kustomizations.map(([f]) => relative(deployDir, f)).sort()).toEqual([
      'base/kustomization.yaml',
      'overlays/dev/kustomization.yaml',
      'overlays/prod/kustomization.yaml',
    ]);
  });

  it.each(kustomizations.map(([f, docs]) => [relative(repoRoot, f), f, obj(docs[0])] as const))(
    '%s lists only existing files, and every manifest beside it',
    (_name, file, k) => {
      const dir = dirname(file);
      const missing: string[] = [];
      const check = (p: string): void => {
        const full = resolve(dir, p);
        const ok =
          existsSync(full) && (!statSync(full).isDirectory() || existsSync(join(full, 'kustomization.yaml')));
        if (!ok) missing.push(p);
      };
      arr(k['resources']).map(str).forEach(check);
      arr(k['components']).map(str).forEach(check);
      arr(k['patches'])
        .map(obj)
        .filter((p) => p['path'] !== undefined)
        .forEach((p) => check(str(p['path'])));
      for (const gen of [...arr(k['configMapGenerator']), ...arr(k['secretGenerator'])].map(obj)) {
        arr(gen['files'])
          .map((f) => str(f).replace(/^[^=]+=/, ''))
          .forEach(check);
        arr(gen['envs']).map(str).forEach(check);
      }
      expect(missing).toEqual([]);

      const listed = new Set(arr(k['resources']).map((r) => resolve(dir, str(r))));
      const manifestsHere = readdirSync(dir)
        .map((f) => join(dir, f))
        .filter((f) => /\.ya?ml$/.test(f) && !isKustomization(f) && (docsByFile.get(f) ?? []).some(isK8s));
      expect(manifestsHere.filter((f) => !listed.has(f)).map((f) => relative(repoRoot, f))).toEqual([]);
    },
  );

  it('carries up-to-date copies of the gateway files (deploy/tools/sync-kong-config.ts)', () => {
    for (const file of derivedFiles(readRepo)) {
      expect({
        path: file.path,
        upToDate: existsSync(join(repoRoot, file.path)) && readRepo(file.path) === file.content,
      }).toEqual({
        path: file.path,
        upToDate: true,
      });
    }
  });

  it('gives prod the gateway routes and plugins of gateway/kong.yml, with its own issuer only', () => {
    const schema = JSON.parse(readRepo('gateway/kong.schema.json')) as object;
    const validate = new Ajv({ allErrors: true }).compile(schema);
    const prod: unknown = parse(readRepo('deploy/overlays/prod/kong/kong.yml'));
    const dev: unknown = parse(readRepo('gateway/kong.yml'));
    expect(validate(prod)).toBe(true);
    const shape = (doc: unknown): unknown =>
      kongRoutes(doc).map((r) => ({ ...r, pathRegex: r.pathRegex.source }));
    expect(shape(prod)).toEqual(shape(dev));
    const keys = (doc: unknown): string[] =>
      arr(obj(doc)['consumers']).flatMap((c) => arr(obj(c)['jwt_secrets']).map((s) => str(obj(s)['key'])));
    const pems = (doc: unknown): string[] =>
      arr(obj(doc)['consumers']).flatMap((c) =>
        arr(obj(c)['jwt_secrets']).map((s) => str(obj(s)['rsa_public_key'])),
      );
    expect(keys(prod)).not.toContain('clinisync-dev');
    expect(pems(prod).filter((p) => pems(dev).includes(p))).toEqual([]);
  });
});

describe('withDevIssuerKey (local docker-compose with npm run token keys)', () => {
  const gateway = readRepo('gateway/kong.yml');
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
    type: 'spki',
    format: 'pem',
  });

  it('changes only the dev issuer key', () => {
    const local = withDevIssuerKey(gateway, pem.toString());
    const secrets = (doc: unknown): Obj[] =>
      arr(obj(doc)['consumers']).flatMap((c) => arr(obj(c)['jwt_secrets']).map(obj));
    const before = parse(gateway) as Obj;
    const after = parse(local) as Obj;
    expect(secrets(after).find((s) => s['key'] === DEV_ISSUER)?.['rsa_public_key']).toBe(pem.toString());
    expect({ ...after, consumers: undefined }).toEqual({ ...before, consumers: undefined });
    expect(secrets(after).map((s) => s['key'])).toEqual(secrets(before).map((s) => s['key']));
  });

  it('refuses anything but a PEM public key', () => {
    expect(() => withDevIssuerKey(gateway, 'not a key')).toThrow(/PEM public key/);
  });
});

// `kubectl kustomize` is kustomize itself: rendering catches broken patches, generators and name
// references that the file checks above cannot see. It renders offline; kubectl is required (.ci/run
// installs it), so these checks fail rather than skip when it is missing.
const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const KUBECTL_MISSING =
  'kubectl is required to render the overlays (`kubectl kustomize`) but was not found on PATH: ' +
  'install it (Debian: apt-get install -y kubectl; .ci/run does this) and run again';
const overlays = readdirSync(join(deployDir, 'overlays'))
  .filter((name) => existsSync(join(deployDir, 'overlays', name, 'kustomization.yaml')))
  .sort();

/** Kinds every overlay must render, with the names of the objects of that kind it must hold. */
const RENDERED: Record<string, string[]> = {
  Namespace: [],
  Deployment: ['sync-ingest', 'audit', 'patients', 'pharmacy', 'inventory', 'kong', 'redis'],
  Service: ['sync-ingest', 'audit', 'patients', 'pharmacy', 'inventory', 'redis', 'kong-proxy'],
  PodDisruptionBudget: ['sync-ingest', 'audit', 'patients', 'pharmacy', 'inventory', 'kong', 'redis'],
  StatefulSet: ['nats'],
  Job: [],
  HorizontalPodAutoscaler: ['sync-ingest'],
  ConfigMap: [],
};

it('finds kubectl and both overlays to render', () => {
  expect({ kubectl: kubectl.status === 0 ? 'found' : KUBECTL_MISSING }).toEqual({ kubectl: 'found' });
  expect(overlays).toEqual(['dev', 'prod']);
});

describe.each(overlays)('kubectl kustomize deploy/overlays/%s', (overlay) => {
  let objects: K8sObject[] = [];
  beforeAll(() => {
    if (kubectl.status !== 0) throw new Error(KUBECTL_MISSING);
    const run = spawnSync('kubectl', ['kustomize', join(deployDir, 'overlays', overlay)], {
      encoding: 'utf8',
    });
    if (run.status !== 0)
      throw new Error(`kubectl kustomize deploy/overlays/${overlay} failed: ${run.stderr}`);
    objects = parseYamlDocs(run.stdout, `overlay ${overlay}`).filter(isK8s);
  });

  const configMap = (prefix: string): Obj =>
    obj(at(objects.find((o) => o.kind === 'ConfigMap' && nameOf(o).startsWith(prefix)), 'data'));
  const envOf = (c: Obj, name: string): Obj | undefined =>
    arr(c['env'])
      .map(obj)
      .find((e) => e['name'] === name);

  it('gives every service its own NATS user, password from the Secret, and R3 streams', () => {
    for (const user of NATS_USERS) {
      const deployment = objects.find((o) => o.kind === 'Deployment' && nameOf(o) === user);
      const c = containers(deployment as K8sObject)[0] ?? {};
      expect({ user, env: [envOf(c, 'NATS_USER'), envOf(c, 'NATS_PASSWORD')] }).toEqual({
        user,
        env: [
          { name: 'NATS_USER', value: user },
          { name: 'NATS_PASSWORD', valueFrom: { secretKeyRef: { name: SECRET_NAME, key: `nats-${user}-password` } } },
        ],
      });
    }
    expect(configMap('clinisync-config')['NATS_STREAM_REPLICAS']).toBe('3');
  });

  it('runs NATS with the committed users and permissions, every password from the Secret', () => {
    const sts = objects.find((o) => o.kind === 'StatefulSet' && nameOf(o) === 'nats') as K8sObject;
    const c = containers(sts)[0] ?? {};
    for (const user of NATS_USERS)
      expect(envOf(c, natsPasswordVar(user))).toEqual({
        name: natsPasswordVar(user),
        valueFrom: { secretKeyRef: { name: SECRET_NAME, key: `nats-${user}-password` } },
      });
    const conf = configMap('nats-config');
    expect(conf['auth.conf']).toBe(readRepo('deploy/nats/auth.conf'));
    const main = str(conf['nats.conf']).replace(/#.*$/gm, '');
    for (const file of ['auth.conf', 'tls.conf', 'cluster-tls.conf']) {
      expect({ file, included: new RegExp(`^\\s*include\\s+\\./${file.replace('.', '\\.')}\\s*$`, 'm').test(main) }).toEqual({ file, included: true });
      expect({ file, inConfigMap: typeof conf[file] }).toEqual({ file, inConfigMap: 'string' });
    }
    const tlsMount = arr(c['volumeMounts']).map(obj).find((m) => m['mountPath'] === '/etc/nats-tls');
    const tlsVolume = arr(podSpec(sts)['volumes']).map(obj).find((v) => v['name'] === tlsMount?.['name']);
    expect(at(tlsVolume, 'secret', 'secretName')).toBe('nats-tls');
  });

  it(overlay === 'prod' ? 'requires TLS: clients verify the servers, routes are mutual TLS' : 'runs NATS without TLS (dev)', () => {
    const conf = configMap('nats-config');
    const client = str(conf['tls.conf']).replace(/#.*$/gm, '');
    const routes = str(conf['cluster-tls.conf']).replace(/#.*$/gm, '');
    const caFile = configMap('clinisync-config')['NATS_TLS_CA_FILE'];
    if (overlay !== 'prod') {
      expect([client.trim(), routes.trim(), caFile]).toEqual(['', '', undefined]);
      return;
    }
    for (const text of [client, routes]) {
      expect(text).toMatch(/^\s*cert_file:\s*\/etc\/nats-tls\/tls\.crt\s*$/m);
      expect(text).toMatch(/^\s*key_file:\s*\/etc\/nats-tls\/tls\.key\s*$/m);
      expect(text).toMatch(/^\s*ca_file:\s*\/etc\/nats-tls\/ca\.crt\s*$/m);
    }
    expect(routes).toMatch(/^\s*verify:\s*true\s*$/m);
    // Every service (and migrate, which validates the shared setting) reads the CA where the
    // Secret nats-tls is mounted (key ca.crt).
    for (const user of [...NATS_USERS, 'clinisync-migrate']) {
      const deployment = objects.find((o) => workloadKinds.has(o.kind) && nameOf(o) === user) as K8sObject;
      const mount = arr(containers(deployment)[0]?.['volumeMounts'])
        .map(obj)
        .find((m) => str(caFile).startsWith(`${str(m['mountPath'])}/`));
      const volume = arr(podSpec(deployment)['volumes']).map(obj).find((v) => v['name'] === mount?.['name']);
      expect({ user, secret: at(volume, 'secret', 'secretName'), items: at(volume, 'secret', 'items') }).toEqual({
        user,
        secret: 'nats-tls',
        items: [{ key: 'ca.crt', path: str(caFile).slice(str(mount?.['mountPath']).length + 1) }],
      });
    }
  });

  it('renders objects that satisfy the invariants', () => {
    expect(objects.length).toBeGreaterThan(20);
    expect(allChecks(objects)).toEqual([]);
  });

  it('renders every kind the platform needs, with the objects of each', () => {
    for (const [kind, names] of Object.entries(RENDERED)) {
      const rendered = objects.filter((o) => o.kind === kind).map(nameOf);
      expect({ kind, present: rendered.length > 0 }).toEqual({ kind, present: true });
      expect({ kind, names: rendered }).toEqual({ kind, names: expect.arrayContaining(names) as unknown });
    }
    for (const o of objects.filter((x) => workloadKinds.has(x.kind)))
      expect({ id: idOf(o), containers: containers(o).length > 0 }).toEqual({
        id: idOf(o),
        containers: true,
      });
  });

  it('puts everything in the overlay namespace', () => {
    const namespace = overlay === 'dev' ? 'clinisync-dev' : 'clinisync';
    const namespaced = objects.filter((o) => o.kind !== 'Namespace');
    expect(namespaced.filter((o) => o.metadata['namespace'] !== namespace).map(idOf)).toEqual([]);
  });

  it('references only ConfigMaps it renders (optional ones excepted)', () => {
    const configMaps = new Set(objects.filter((o) => o.kind === 'ConfigMap').map(nameOf));
    const missing: string[] = [];
    for (const o of objects.filter((x) => workloadKinds.has(x.kind))) {
      for (const v of arr(podSpec(o)['volumes']).map(obj)) {
        const cm = obj(v['configMap']);
        if (cm['name'] !== undefined && cm['optional'] !== true && !configMaps.has(str(cm['name'])))
          missing.push(`${idOf(o)}: ${str(cm['name'])}`);
      }
      for (const c of containers(o)) {
        for (const ef of arr(c['envFrom']).map(obj)) {
          const name = at(ef, 'configMapRef', 'name');
          if (name !== undefined && !configMaps.has(str(name))) missing.push(`${idOf(o)}: ${str(name)}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('configures Kong from a ConfigMap whose kong.yml routes like gateway/kong.yml', () => {
    const kong = objects.find((o) => o.kind === 'Deployment' && nameOf(o) === 'kong');
    const cmName = arr(podSpec(kong as K8sObject)['volumes'])
      .map(obj)
      .map((v) => str(at(v, 'configMap', 'name')))
      .find((n) => n.startsWith('kong-declarative'));
    const cm = objects.find((o) => o.kind === 'ConfigMap' && nameOf(o) === cmName);
    const routes = kongRoutes(parse(str(at(cm, 'data', 'kong.yml'))));
    const expected = kongRoutes(parse(readRepo('gateway/kong.yml')));
    expect(routes.map((r) => [r.service, r.name, r.methods, r.paths, r.plugins])).toEqual(
      expected.map((r) => [r.service, r.name, r.methods, r.paths, r.plugins]),
    );
  });

  it('gives the services an issuer key source (public key file or JWKS URL) and HOST 0.0.0.0', () => {
    const config = objects.find((o) => o.kind === 'ConfigMap' && nameOf(o).startsWith('clinisync-config'));
    const data = obj(at(config, 'data'));
    expect(data['HOST']).toBe('0.0.0.0');
    expect(data['AUTH_PUBLIC_KEY_FILE'] !== undefined || data['AUTH_JWKS_URL'] !== undefined).toBe(true);
    if (data['AUTH_PUBLIC_KEY_FILE'] !== undefined) {
      const key = objects.find((o) => o.kind === 'ConfigMap' && nameOf(o).startsWith('clinisync-auth-key'));
      expect(str(at(key, 'data', 'jwt-public.pem'))).toContain('BEGIN PUBLIC KEY');
    }
  });
});

describe('docker-compose.yml', () => {
  const compose = obj(parse(readRepo('docker-compose.yml'), { merge: true }));
  const services = obj(compose['services']);
  const entries = Object.entries(services).map(([name, s]) => [name, obj(s)] as const);
  const appServices = entries.filter(([, s]) => str(s['image']).includes('clinisync/app'));

  it('has a TLS override (deploy/compose/docker-compose.tls.yml) that makes every NATS node require TLS and every NATS client trust the CA', () => {
    const tls = obj(obj(parse(readRepo('deploy/compose/docker-compose.tls.yml')))['services']);
    const natsNodes = entries.filter(([name]) => /^nats-\d$/.test(name)).map(([name]) => name);
    const natsClients = appServices.filter(([, s]) => 'NATS_USER' in obj(s['environment'])).map(([name]) => name);
    expect(Object.keys(tls).sort()).toEqual([...natsNodes, ...natsClients].sort());
    for (const node of natsNodes) {
      const command = (at(tls, node, 'command') as string[]).join(' ');
      expect({ node, command }).toEqual({ node, command: `-c /etc/clinisync-nats/${node}.conf --tls --tlscert /etc/clinisync-nats/tls/server.pem --tlskey /etc/clinisync-nats/tls/server-key.pem` });
      // The original command's config file is kept: only TLS is added.
      expect(command.startsWith((obj(services[node])['command'] as string[]).join(' '))).toBe(true);
    }
    for (const client of natsClients) {
      expect({ client, ca: at(tls, client, 'environment', 'NATS_TLS_CA_FILE'), volumes: at(tls, client, 'volumes') }).toEqual({
        client,
        ca: '/run/clinisync/nats-ca.pem',
        volumes: ['./deploy/nats/tls/ca.pem:/run/clinisync/nats-ca.pem:ro'],
      });
    }
  });

  it('is Compose v1-compatible: version 3.8, no top-level name', () => {
    expect(compose['version']).toBe('3.8');
    expect(compose['name']).toBeUndefined();
  });

  it('has a healthcheck on every service but the one-shot migrate', () => {
    const without = entries.filter(
      ([, s]) => !isObj(s['healthcheck']) || at(s, 'healthcheck', 'disable') === true,
    );
    expect(without.map(([name]) => name)).toEqual(['migrate']);
    expect(services['migrate']).toMatchObject({ command: ['migrate'], restart: 'no' });
  });

  it('waits for healthy dependencies and for migrate to complete', () => {
    for (const [name, s] of entries) {
      for (const [dep, cond] of Object.entries(obj(s['depends_on']))) {
        const condition = str(at(cond, 'condition'));
        const expected = dep === 'migrate' ? 'service_completed_successfully' : 'service_healthy';
        expect({ name, dep, condition }).toEqual({ name, dep, condition: expected });
      }
    }
    for (const [name, s] of appServices.filter(([n]) => n !== 'migrate')) {
      expect({ name, deps: Object.keys(obj(s['depends_on'])) }).toMatchObject({
        name,
        deps: expect.arrayContaining(['postgres', 'migrate', 'nats-1', 'nats-2', 'nats-3']) as unknown,
      });
    }
  });

  it('runs every CliniSync service from the one Dockerfile, selected by command', () => {
    expect(appServices.map(([n]) => n).sort()).toEqual(
      ['audit', 'inventory', 'migrate', 'patients', 'pharmacy', 'sync-ingest'].sort(),
    );
    for (const [name, s] of appServices) {
      expect(s['command']).toEqual([name]);
      expect(at(s, 'build', 'dockerfile')).toBe('Dockerfile');
    }
  });

  it('publishes no module service port, and the public ones only on loopback', () => {
    for (const name of ['patients', 'pharmacy', 'inventory'])
      expect(obj(services[name])['ports']).toBeUndefined();
    for (const name of ['sync-ingest', 'audit']) {
      for (const p of arr(obj(services[name])['ports'])) expect(str(p)).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('uses Postgres 16, Redis, and Kong DB-less with gateway/kong.yml', () => {
    expect(obj(services['postgres'])['image']).toBe('postgres:16');
    expect(str(obj(services['redis'])['image'])).toMatch(/^redis:/);
    const kong = obj(services['kong']);
    expect(str(kong['image'])).toMatch(/^kong:3\./);
    expect(at(kong, 'environment', 'KONG_DATABASE')).toBe('off');
    expect(arr(kong['volumes']).map(str)).toContain(
      '${CLINISYNC_KONG_CONFIG:-./gateway/kong.yml}:/kong/declarative/kong.yml:ro',
    );
  });

  it('makes every service listen on all container interfaces', () => {
    for (const [name, s] of appServices.filter(([n]) => n !== 'migrate')) {
      expect({ name, HOST: at(s, 'environment', 'HOST') }).toEqual({ name, HOST: '0.0.0.0' });
    }
  });

  it('sets the sync-ingest body limit Kong enforces (2 MiB)', () => {
    expect(at(services['sync-ingest'], 'environment', 'BODY_LIMIT_BYTES')).toBe('2097152');
  });

  it('runs a 3-node NATS 2.10 JetStream cluster with fsync always', () => {
    const nats = entries.filter(([, s]) => str(s['image']).startsWith('nats:'));
    expect(nats.map(([n]) => n)).toEqual(['nats-1', 'nats-2', 'nats-3']);
    const routes = nats.map(([n]) => `nats-route://${n}:6222`);
    const serverNames = new Set<string>();
    for (const [name, s] of nats) {
      expect(str(s['image'])).toMatch(/^nats:2\.10/);
      const command = arr(s['command']).map(str);
      expect(command[0]).toBe('-c');
      // map the config path inside the container back to the bind-mounted file in the repo
      const mount = arr(s['volumes'])
        .map((v) => str(v).split(':'))
        .find(([host, container]) => host?.startsWith('./') && command[1]?.startsWith(`${container}/`));
      expect(mount).toBeDefined();
      const [host = '', container = ''] = mount ?? [];
      const file = join(repoRoot, host, (command[1] ?? '').slice(container.length));
      const text = readFileSync(file, 'utf8').replace(/^\s*include\s+(\S+)\s*$/gm, (_m, inc: string) =>
        readFileSync(join(dirname(file), inc.replace(/^["']|["']$/g, '')), 'utf8'),
      );
      expect(natsConfigViolations(text, routes, name)).toEqual([]);
      serverNames.add(/^\s*server_name\s*[:=]\s*(\S+)/m.exec(text)?.[1] ?? '');
    }
    expect(serverNames).toEqual(new Set(['nats-1', 'nats-2', 'nats-3']));
  });

  it('gives each service its own NATS user and the NATS nodes every password auth.conf reads', () => {
    for (const user of NATS_USERS) {
      const env = obj(at(services[user], 'environment'));
      expect({ user, NATS_USER: env['NATS_USER'], NATS_PASSWORD: typeof env['NATS_PASSWORD'] }).toEqual({ user, NATS_USER: user, NATS_PASSWORD: 'string' });
      expect(env['NATS_STREAM_REPLICAS']).toBe('3');
    }
    for (const node of ['nats-1', 'nats-2', 'nats-3']) {
      const env = obj(at(services[node], 'environment'));
      expect(Object.keys(env).sort()).toEqual(NATS_USERS.map(natsPasswordVar).sort());
    }
    // The raw file: each service's password and its node variable have the same default and override.
    const raw = readRepo('docker-compose.yml');
    for (const user of NATS_USERS) {
      const value = `\${${natsPasswordVar(user)}:-${user}-nats-dev}`;
      expect({ user, nodes: raw.includes(`${natsPasswordVar(user)}: ${value}`), service: raw.includes(`NATS_PASSWORD: ${value}`) }).toEqual({ user, nodes: true, service: true });
    }
    expect(readRepo('deploy/nats/cluster.conf')).toMatch(/^include \.\/auth\.conf$/m);
  });
});

describe('NATS users and permissions (deploy/nats/auth.conf)', () => {
  const auth = readRepo('deploy/nats/auth.conf');
  const code = auth.replace(/#.*$/gm, '');

  it('is the file the Kubernetes base carries (cp deploy/nats/auth.conf deploy/base/nats/auth.conf)', () => {
    expect(readRepo('deploy/base/nats/auth.conf')).toBe(auth);
  });

  it('has one user per service, its password from the environment, and no anonymous access', () => {
    const users = [...code.matchAll(/^\s*user:\s*(\S+)\s*$/gm)].map((m) => m[1]);
    expect(users.sort()).toEqual([...NATS_USERS].sort());
    const passwords = [...code.matchAll(/^\s*password:\s*(\S+)\s*$/gm)].map((m) => m[1]);
    expect(passwords.sort()).toEqual(NATS_USERS.map((u) => `$${natsPasswordVar(u)}`).sort());
    expect(code).not.toMatch(/no_auth_user|authorization\s*\{/);
    expect(code).toMatch(/jetstream:\s*enabled/);
  });

  it('lets only the module relays publish change events, each its own module, and nobody manage streams', () => {
    const published = [...code.matchAll(/"(clinical\.[^"]*)"/g)].map((m) => m[1]);
    expect(published.sort()).toEqual(['clinical.*.inventory.>', 'clinical.*.patients.>', 'clinical.*.pharmacy.>']);
    expect(code).not.toMatch(/\$JS\.API\.STREAM\.(UPDATE|DELETE|PURGE|MSG)|\$JS\.API\.>|"\$JS\.>"|">"/);
  });
});

describe('deploy/citus/distribute.sql', () => {
  const sql = readRepo('deploy/citus/distribute.sql');
  const expected = [
    'sync_ingest.sync_mutations',
    'sync_ingest.conflicts',
    'sync_ingest.outbox',
    'sync_ledger.mutations',
    ...['patients', 'visits', 'vitals', 'problems', 'clinical_notes', 'appointments', 'outbox'].map(
      (t) => `patients.${t}`,
    ),
    ...['drug_catalogue', 'prescriptions', 'prescription_items', 'dispensing_records', 'outbox'].map(
      (t) => `pharmacy.${t}`,
    ),
    ...['stock_movements', 'stock_levels', 'outbox', 'processed_events'].map(
      (t) => `inventory.${t}`,
    ),
    'audit.audit_events',
    'audit.chain_heads',
  ];

  it('distributes every table by tenant_id, each once, co-located with the anchor', () => {
    const calls = [
      ...sql.matchAll(/create_distributed_table\('([a-z_]+\.[a-z_]+)',\s*'([a-z_]+)'([^)]*)\)/g),
    ];
    expect(calls.map((m) => m[1]).sort()).toEqual([...expected].sort());
    expect(calls.every((m) => m[2] === 'tenant_id')).toBe(true);
    const [anchor, ...rest] = calls;
    expect(anchor?.[1]).toBe('sync_ingest.sync_mutations');
    for (const m of rest) expect(m[3]).toContain("colocate_with => 'sync_ingest.sync_mutations'");
  });

  it('distributes parents before children', () => {
    const order = [...sql.matchAll(/create_distributed_table\('([a-z_]+\.[a-z_]+)'/g)].map((m) => m[1]);
    const before = (a: string, b: string): boolean => order.indexOf(a) < order.indexOf(b);
    expect(before('patients.patients', 'patients.visits')).toBe(true);
    expect(before('patients.visits', 'patients.vitals')).toBe(true);
    expect(before('pharmacy.prescriptions', 'pharmacy.prescription_items')).toBe(true);
    expect(before('pharmacy.drug_catalogue', 'pharmacy.prescription_items')).toBe(true);
    expect(before('audit.audit_events', 'audit.chain_heads')).toBe(true);
  });
});
