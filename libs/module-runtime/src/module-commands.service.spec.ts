import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { ApplyBatchCommand, ApplyBatchReply } from '@clinisync/contracts';
import { DEFAULT_AUDIENCE, DEV_ISSUER, JwtVerifier, ensureDevIssuerKeys, signDevToken } from '@clinisync/auth';
import { OutboxMetrics } from '@clinisync/observability';
import { BatchApplier } from './batch-applier';
import { ModuleRelays } from './module-relays';
import { ModuleCommandsService } from './module-commands.service';

// Real parts: the JWT verifier (dev issuer keys), metrics, the service and its gate. Fake: the
// batch applier (batches that end when the test says) and the relays (counted wake-ups).
describe('ModuleCommandsService apply gate', () => {
  let dir: string;
  let verifier: JwtVerifier;
  let token: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'clinisync-gate-'));
    const keys = await ensureDevIssuerKeys(dir);
    verifier = JwtVerifier.fromJwks({ keys: [keys.publicJwk] }, { issuer: DEV_ISSUER, audience: DEFAULT_AUDIENCE });
    token = await signDevToken(keys, { sub: 'u-1', tenantId: 't1', roles: ['nurse'], facilities: ['f-1'] });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('applies at most its concurrency of batches at once; the others start as earlier ones end, and all answer', async () => {
    let running = 0;
    let peak = 0;
    const finish: (() => void)[] = [];
    const applier = {
      apply: async (): Promise<ApplyBatchReply> => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise<void>((r) => finish.push(r));
        running -= 1;
        return { results: [] };
      },
    } as unknown as BatchApplier;
    const wakes = { n: 0 };
    const relays = { notify: () => (wakes.n += 1) } as unknown as ModuleRelays;
    const service = new ModuleCommandsService(verifier, applier, relays, new OutboxMetrics(new Registry()), undefined, 2);
    const command: ApplyBatchCommand = { tenantId: 't1', correlationId: 'c', token, commands: [] };
    const replies = Array.from({ length: 5 }, () => service.applyBatch(command));
    const settle = () => new Promise((r) => setTimeout(r, 20));
    await settle();
    expect(running).toBe(2);
    for (let ended = 0; ended < 5; ended++) {
      finish.shift()?.();
      await settle();
      expect(running).toBe(Math.min(2, 5 - ended - 1));
    }
    await expect(Promise.all(replies)).resolves.toHaveLength(5);
    expect(peak).toBe(2);
    expect(wakes.n).toBe(5);
  });
});
