/**
 * Refreshes the copies of gateway files that the kustomize overlays need (see kong-config.ts).
 *
 *   npx ts-node --transpile-only deploy/tools/sync-kong-config.ts          # write them
 *   npx ts-node --transpile-only deploy/tools/sync-kong-config.ts --check  # exit 1 if stale
 *
 * For a local docker-compose that should accept `npm run token` tokens at Kong too:
 *   npx ts-node --transpile-only deploy/tools/sync-kong-config.ts --local-dev-key .data/dev-issuer/public.pem
 * writes .data/kong.local.yml (git-ignored): gateway/kong.yml with that key for issuer clinisync-dev.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { derivedFiles, withDevIssuerKey } from './kong-config';

const repoRoot = join(__dirname, '..', '..');
const read = (repoPath: string): string => readFileSync(join(repoRoot, repoPath), 'utf8');
const readIfExists = (repoPath: string): string | undefined => {
  try {
    return read(repoPath);
  } catch {
    return undefined;
  }
};

const LOCAL_KONG_CONFIG = '.data/kong.local.yml';

function writeLocalConfig(keyFile: string): number {
  const out = join(repoRoot, LOCAL_KONG_CONFIG);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, withDevIssuerKey(read('gateway/kong.yml'), readFileSync(resolve(keyFile), 'utf8')));
  console.log(`wrote ${LOCAL_KONG_CONFIG}; start docker-compose with`);
  console.log(`  CLINISYNC_KONG_CONFIG=./${LOCAL_KONG_CONFIG} CLINISYNC_JWT_PUBLIC_KEY=${keyFile}`);
  return 0;
}

function main(argv: readonly string[]): number {
  const keyIdx = argv.indexOf('--local-dev-key');
  if (keyIdx >= 0) {
    const keyFile = argv[keyIdx + 1];
    if (keyFile === undefined) throw new Error('--local-dev-key needs the path of a PEM public key');
    return writeLocalConfig(keyFile);
  }
  const check = argv.includes('--check');
  let stale = 0;
  for (const file of derivedFiles(read)) {
    if (readIfExists(file.path) === file.content) continue;
    stale += 1;
    if (check) {
      console.error(`stale: ${file.path} (from ${file.from.join(' + ')})`);
    } else {
      writeFileSync(join(repoRoot, file.path), file.content);
      console.log(`wrote ${file.path}`);
    }
  }
  if (check && stale > 0) {
    console.error('run: npx ts-node --transpile-only deploy/tools/sync-kong-config.ts');
    return 1;
  }
  if (stale === 0) console.log('derived gateway files are up to date');
  return 0;
}

process.exitCode = main(process.argv.slice(2));
