import { ClientProxy } from '@nestjs/microservices';
import { firstValueFrom, timeout } from 'rxjs';
import { ApplyBatchCommand, ApplyBatchReply, ModuleErrorReply, ModuleName, applyBatchPattern } from '@clinisync/contracts';

/** A module could not apply a batch over any transport; nothing is known to be applied. */
export class ModuleUnavailableError extends Error {
  constructor(
    readonly module: ModuleName,
    reason: string,
  ) {
    super(`${module} unavailable: ${reason}`);
    this.name = 'ModuleUnavailableError';
  }
}

export interface ModuleGatewayOptions {
  timeoutMs: number;
  httpUrls: Record<ModuleName, string>;
}

function isModuleError(e: unknown): e is ModuleErrorReply {
  return typeof e === 'object' && e !== null && 'error' in e && typeof (e as ModuleErrorReply).error?.code === 'string';
}

/**
 * Sends one command batch to a module: NATS request-reply first; while NATS is unreachable
 * (or the request times out) the same command goes to the module's internal HTTP endpoint.
 * Re-sending is safe: the module answers a command it already applied from its inbox.
 */
export class ModuleGateway {
  private natsConnected = false;

  constructor(
    private readonly client: ClientProxy,
    private readonly options: ModuleGatewayOptions,
  ) {
    client.status.subscribe((s) => (this.natsConnected = s === 'connected'));
  }

  async connect(): Promise<void> {
    await this.client.connect().then(
      () => (this.natsConnected = true),
      () => (this.natsConnected = false),
    );
  }

  get natsUp(): boolean {
    return this.natsConnected;
  }

  async applyBatch(module: ModuleName, command: ApplyBatchCommand): Promise<ApplyBatchReply> {
    let natsFailure = 'NATS not connected';
    if (this.natsConnected) {
      try {
        return await firstValueFrom(this.client.send<ApplyBatchReply>(applyBatchPattern(module), command).pipe(timeout(this.options.timeoutMs)));
      } catch (e) {
        if (isModuleError(e) && e.error.code !== 'UNAVAILABLE') throw new ModuleUnavailableError(module, `${e.error.code}: ${e.error.message}`);
        natsFailure = isModuleError(e) ? e.error.message : String((e as Error)?.message ?? e);
      }
    }
    return this.viaHttp(module, command, natsFailure);
  }

  private async viaHttp(module: ModuleName, command: ApplyBatchCommand, natsFailure: string): Promise<ApplyBatchReply> {
    try {
      const res = await fetch(`${this.options.httpUrls[module]}/internal/v1/apply-batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${command.token}`, 'x-correlation-id': command.correlationId },
        body: JSON.stringify(command),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const body = (await res.json()) as ApplyBatchReply | ModuleErrorReply;
      if (res.ok && 'results' in body) return body;
      throw new Error(isModuleError(body) ? `${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`);
    } catch (e) {
      throw new ModuleUnavailableError(module, `${natsFailure}; HTTP fallback: ${(e as Error).message}`);
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
