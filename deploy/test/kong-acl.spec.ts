/**
 * Production ACLs end to end over the files: each Kong consumer of the prod overlay is one token
 * issuer in one ACL group (gateway/kong.yml: audit routes allow `auditor`, the others `clinical`),
 * and the service behind those routes trusts exactly that issuer. Pure file checks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { kongRoutes } from '../../gateway/kong-routes';

type Doc = Record<string, unknown>;
const repoRoot = join(__dirname, '..', '..');
const read = (path: string): string => readFileSync(join(repoRoot, path), 'utf8');

const kustomization = parse(read('deploy/overlays/prod/kustomization.yaml')) as Doc;
const prodKong = parse(read('deploy/overlays/prod/kong/kong.yml')) as Doc;

/** Issuer values (jwt_secrets keys) of the prod consumers in `group`. */
function issuersOfGroup(group: string): string[] {
  return (prodKong['consumers'] as Doc[])
    .filter((c) => ((c['acls'] as Doc[] | undefined) ?? []).some((a) => a['group'] === group))
    .flatMap((c) => ((c['jwt_secrets'] as Doc[] | undefined) ?? []).map((s) => String(s['key'])));
}

/** AUTH_ISSUER of the shared ConfigMap literals. */
function configMapIssuer(): string | undefined {
  const generator = (kustomization['configMapGenerator'] as Doc[]).find((g) => g['name'] === 'clinisync-config');
  const literal = ((generator?.['literals'] as string[] | undefined) ?? []).find((l) => l.startsWith('AUTH_ISSUER='));
  return literal?.slice('AUTH_ISSUER='.length);
}

/** Env values the prod overlay adds to one Deployment's first container. */
function patchedEnv(deployment: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of kustomization['patches'] as Doc[]) {
    const target = p['target'] as Doc | undefined;
    if (target?.['kind'] !== 'Deployment' || target['name'] !== deployment) continue;
    for (const op of parse(String(p['patch'])) as Doc[]) {
      if (op['path'] !== '/spec/template/spec/containers/0/env/-') continue;
      const value = op['value'] as Doc;
      out[String(value['name'])] = String(value['value']);
    }
  }
  return out;
}

describe('production Kong ACL groups and the issuers the services trust', () => {
  it('routes audit paths to the auditor group only and every other path to the clinical group only', () => {
    for (const route of kongRoutes(prodKong)) {
      expect({ route: route.name, allow: route.pluginConfig['acl']?.['allow'] }).toEqual({ route: route.name, allow: [route.service === 'audit' ? 'auditor' : 'clinical'] });
    }
  });

  it('has one clinical issuer, trusted by the clinical services (ConfigMap AUTH_ISSUER)', () => {
    expect(issuersOfGroup('clinical')).toEqual([configMapIssuer()]);
  });

  it("has one auditors' issuer, trusted by the audit service only (its AUTH_ISSUER and JWKS)", () => {
    const audit = patchedEnv('audit');
    expect(issuersOfGroup('auditor')).toEqual([audit['AUTH_ISSUER']]);
    expect(audit['AUTH_JWKS_URL']?.startsWith(`${audit['AUTH_ISSUER']}/`)).toBe(true);
    expect(issuersOfGroup('auditor')).not.toContain(configMapIssuer());
    for (const service of ['sync-ingest', 'patients', 'pharmacy', 'inventory']) expect(patchedEnv(service)['AUTH_ISSUER']).toBeUndefined();
  });
});
