/**
 * Runs a compiled service: `node dist/tools/runtime/run-service.js <service>`. Maps the
 * `@clinisync/*` aliases to the compiled libs under dist/ (tsc does not rewrite them).
 */
import { join, resolve } from 'node:path';
import { register } from 'tsconfig-paths';

const SERVICES = ['sync-ingest', 'patients', 'pharmacy', 'inventory', 'audit'];

const service = process.argv[2];
if (!service || !SERVICES.includes(service)) {
  console.error(`usage: run-service <${SERVICES.join('|')}>`);
  process.exit(2);
}
const dist = resolve(__dirname, '..', '..');
register({ baseUrl: dist, paths: { '@clinisync/*': ['libs/*/src/index.js'] } });
// eslint-disable-next-line @typescript-eslint/no-require-imports -- load the compiled service after aliases are registered
require(join(dist, 'services', service, 'src', 'main.js'));
