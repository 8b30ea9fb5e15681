/**
 * `npm run --silent token -- --tenant t1 --sub u1 --roles nurse,clinician --facilities f-1,f-2 [--lic controlled-substances]`
 * prints a dev JWT signed by the dev issuer (keys under AUTH_DEV_ISSUER_DIR, default .data/dev-issuer)
 * and nothing else on stdout. Refused with NODE_ENV=production (production trusts the IdP only).
 */
import { ensureDevIssuerKeys, signDevToken } from '@clinisync/auth';

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);

export async function makeToken(argv: string[], env: Record<string, string | undefined> = process.env): Promise<string> {
  if (env.NODE_ENV === 'production') throw new Error('token: the dev token issuer is refused with NODE_ENV=production; get tokens from the IdP');
  const tenant = arg(argv, 'tenant');
  const sub = arg(argv, 'sub');
  if (!tenant || !sub) throw new Error('usage: token --tenant <id> --sub <user> --roles r1,r2 --facilities f1,f2 [--lic l1] [--exp 12h]');
  const keys = await ensureDevIssuerKeys(env.AUTH_DEV_ISSUER_DIR ?? '.data/dev-issuer');
  return signDevToken(keys, {
    tenantId: tenant,
    sub,
    roles: list(arg(argv, 'roles')),
    facilities: list(arg(argv, 'facilities')),
    licences: list(arg(argv, 'lic')),
    expiresIn: arg(argv, 'exp') ?? '12h',
    issuer: env.AUTH_ISSUER ?? 'clinisync-dev',
    audience: env.AUTH_AUDIENCE ?? 'clinisync',
  });
}

if (require.main === module) {
  makeToken(process.argv.slice(2)).then(
    (t) => process.stdout.write(`${t}\n`),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
