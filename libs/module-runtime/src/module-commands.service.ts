import pLimit from 'p-limit';
import { ApplyBatchCommand, ApplyBatchReply } from '@clinisync/contracts';
import { AuthError, JwtVerifier } from '@clinisync/auth';
import { OutboxMetrics } from '@clinisync/observability';
import { BatchApplier } from './batch-applier';
import { ModuleRelays } from './module-relays';
import { ModuleCommandError, ModuleCommandErrorCode } from './module-commands.errors';

export const FAILPOINT_AFTER_COMMIT = 'after-commit-before-reply';

/**
 * The module side of a push: re-verifies the caller's token (defence in depth), refuses a
 * tenant the token does not carry, applies the batch and wakes the relays. At most
 * `applyConcurrency` batches apply at once; the others wait their turn in memory, holding no
 * connection: more CPU-bound transactions than cores only slow each other and every read
 * (pulls) that shares the machine.
 */
export class ModuleCommandsService {
  private readonly gate: pLimit.Limit;

  constructor(
    private readonly verifier: JwtVerifier,
    private readonly applier: BatchApplier,
    private readonly relay: ModuleRelays,
    private readonly metrics: OutboxMetrics,
    private readonly failpoint: string | undefined,
    applyConcurrency = 4,
  ) {
    this.gate = pLimit(applyConcurrency);
  }

  async applyBatch(command: ApplyBatchCommand): Promise<ApplyBatchReply> {
    if (!command || typeof command.tenantId !== 'string' || !Array.isArray(command.commands) || typeof command.token !== 'string') {
      throw new ModuleCommandError(ModuleCommandErrorCode.BAD_COMMAND, 'malformed command batch');
    }
    let principal;
    try {
      principal = await this.verifier.verify(command.token);
    } catch (e) {
      if (e instanceof AuthError) throw new ModuleCommandError(ModuleCommandErrorCode.UNAUTHENTICATED, 'token rejected');
      throw e;
    }
    if (principal.tenantId !== command.tenantId) {
      throw new ModuleCommandError(ModuleCommandErrorCode.TENANT_MISMATCH, 'command tenant differs from token tenant');
    }
    let reply: ApplyBatchReply;
    try {
      reply = await this.gate(() => this.applier.apply(command, principal));
    } catch (e) {
      throw new ModuleCommandError(ModuleCommandErrorCode.UNAVAILABLE, `batch not applied: ${(e as Error).message}`);
    }
    for (const r of reply.results) this.metrics.applied.inc({ status: r.status });
    if (this.failpoint === FAILPOINT_AFTER_COMMIT) {
      // Simulated crash between commit and reply (tests of exactly-once delivery).
      process.exit(70);
    }
    this.relay.notify();
    return reply;
  }
}
