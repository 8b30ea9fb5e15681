import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SERVICE_NODE_ARGS, serviceNodeArgs } from './service-node-args';

const ENTRYPOINT = resolve(__dirname, '../../deploy/docker/clinisync.sh');
const SERVICES = ['sync-ingest', 'audit', 'patients', 'pharmacy', 'inventory'];

describe('service node args', () => {
  let bin: string;
  beforeAll(() => {
    // A stand-in `node` that prints the arguments the entrypoint starts it with.
    bin = mkdtempSync(join(tmpdir(), 'clinisync-node-args-'));
    writeFileSync(join(bin, 'node'), '#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n');
    chmodSync(join(bin, 'node'), 0o755);
  });
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  /** The V8 options deploy/docker/clinisync.sh passes to node for `service`. */
  function entrypointArgs(service: string, nodeOptions?: string): string[] {
    const env = { PATH: `${bin}:${process.env.PATH ?? ''}`, CLINISYNC_HOME: '/app', ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) };
    const r = spawnSync('sh', [ENTRYPOINT, service], { env, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const args = r.stdout.trim().split('\n');
    return args.slice(0, args.indexOf('/app/dist/tools/runtime/run-service.js'));
  }

  it.each(SERVICES)('the image entrypoint starts %s with the options npm start and the benches use', (service) => {
    expect(entrypointArgs(service)).toEqual(serviceNodeArgs(service, {}));
  });

  it('gives sync-ingest a heap ceiling and growth factor, and no other service either', () => {
    expect(SERVICE_NODE_ARGS['sync-ingest']).toEqual(['--max-old-space-size=256', '--heap-growing-percent=100']);
    expect(SERVICES.filter((s) => serviceNodeArgs(s, {}).length > 0)).toEqual(['sync-ingest']);
  });

  it('leaves the heap ceiling to NODE_OPTIONS when it names one, in both places', () => {
    const env = { NODE_OPTIONS: '--max-old-space-size=512' };
    expect(serviceNodeArgs('sync-ingest', env)).toEqual(['--heap-growing-percent=100']);
    expect(entrypointArgs('sync-ingest', env.NODE_OPTIONS)).toEqual(['--heap-growing-percent=100']);
    expect(serviceNodeArgs('sync-ingest', { NODE_OPTIONS: '--enable-source-maps' })).toEqual(['--max-old-space-size=256', '--heap-growing-percent=100']);
  });
});
