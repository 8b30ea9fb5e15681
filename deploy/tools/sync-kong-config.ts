/**
 * Refreshes the copies of gateway files that the kustomize overlays need (see kong-config.ts).
 *
 *   npx ts-node --transpile-only deploy/tools/sync-kong-config.ts          # write them
 *   npx ts-node --transpile-only deploy/tools/sync-kong-config.ts --check  # exit 1 if stale
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { derivedFiles } from './kong-config';

const repoRoot = join(__dirname, '..', '..');
const read = (repoPath: string): string => readFileSync(join(repoRoot, repoPath), 'utf8');
const readIfExists = (repoPath: string): string | undefined => {
  try {
    return read(repoPath);
  } catch {
    return undefined;
  }
};

function main(argv: readonly string[]): number {
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
