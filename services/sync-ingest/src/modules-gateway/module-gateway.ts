import { ClientProxy } from '@nestjs/microservices';
import { firstValueFrom, timeout } from 'rxjs';
import { ApplyBatchCommand, ApplyBatchReply, FeedReply, FeedRequest, ModuleErrorReply, ModuleName, ReadReply, ReadRequest, applyBatchPattern, feedPattern, readPattern } from '@clinisync/contracts';

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

  applyBatch(module: ModuleName, command: ApplyBatchCommand): Promise<ApplyBatchReply> {
    return this.call<ApplyBatchReply>(module, applyBatchPattern(module), 'apply-batch', command, (b) => 'results' in b);
  }

  feed(module: ModuleName, request: FeedRequest): Promise<FeedReply> {
    return this.call<FeedReply>(module, feedPattern(module), 'feed', request, (b) => 'pages' in b);
  }

  read(module: ModuleName, request: ReadRequest): Promise<ReadReply> {
    return this.call<ReadReply>(module, readPattern(module), 'read', request, (b) => 'items' in b);
  }

  private async call<T extends object>(
    module: ModuleName,
    pattern: string,
    path: string,
    payload: { token: string; correlationId: string },
    isReply: (body: object) => boolean,
  ): Promise<T> {
    let natsFailure = 'NATS not connected';
    if (this.natsConnected) {
      try {
        return await firstValueFrom(this.client.send<T>(pattern, payload).pipe(timeout(this.options.timeoutMs)));
      } catch (e) {
        if (isModuleError(e) && e.error.code !== 'UNAVAILABLE') throw new ModuleUnavailableError(module, `${e.error.code}: ${e.error.message}`);
        natsFailure = isModuleError(e) ? e.error.message : String((e as Error)?.message ?? e);
      }
    }
    try {
      const res = await fetch(`${this.options.httpUrls[module]}/internal/v1/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${payload.token}`, 'x-correlation-id': payload.correlationId },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const body = (await res.json()) as T | ModuleErrorReply;
      if (res.ok && isReply(body)) return body as T;
      throw new Error(isModuleError(body) ? `${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`);
    } catch (e) {
      throw new ModuleUnavailableError(module, `${natsFailure}; HTTP fallback: ${(e as Error).message}`);
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
