import { ClientProxy } from '@nestjs/microservices';
import { firstValueFrom, timeout } from 'rxjs';
import {
  ApplyBatchCommand,
  ApplyBatchReply,
  FeedReply,
  FeedRequest,
  ModuleErrorReply,
  ModuleName,
  ReadReply,
  ReadRequest,
  applyBatchPattern,
  decodeFeedReply,
  feedPattern,
  readPattern,
} from '@clinisync/contracts';

/**
 * A module did not answer over any transport. `outcomeUnknown`: a request reached it (or may
 * have) and no answer came, so its transaction may have committed; otherwise nothing was
 * delivered or the module answered that it applied nothing.
 */
export class ModuleUnavailableError extends Error {
  constructor(
    readonly module: ModuleName,
    reason: string,
    readonly outcomeUnknown = false,
  ) {
    super(`${module} unavailable: ${reason}`);
    this.name = 'ModuleUnavailableError';
  }
}

export interface ModuleGatewayOptions {
  timeoutMs: number;
  httpUrls: Record<ModuleName, string>;
}

/** A JSON reply recognised by a property only it has. */
function jsonReply<T>(key: string): (body: unknown) => T | undefined {
  return (body) => (typeof body === 'object' && body !== null && !(body instanceof Uint8Array) && key in body ? (body as T) : undefined);
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
    return this.call(module, applyBatchPattern(module), 'apply-batch', command, jsonReply<ApplyBatchReply>('results'));
  }

  /** Feed pages arrive as bytes (see `encodeFeedReply`) over NATS and HTTP alike. */
  feed(module: ModuleName, request: FeedRequest): Promise<FeedReply> {
    return this.call(module, feedPattern(module), 'feed', request, (body) => (body instanceof Uint8Array ? decodeFeedReply(body) : undefined));
  }

  read(module: ModuleName, request: ReadRequest): Promise<ReadReply> {
    return this.call(module, readPattern(module), 'read', request, jsonReply<ReadReply>('items'));
  }

  /** `reply` reads a successful answer (JSON object or bytes); undefined = not a reply of this kind. */
  private async call<T>(
    module: ModuleName,
    pattern: string,
    path: string,
    payload: { token: string; correlationId: string },
    reply: (body: unknown) => T | undefined,
  ): Promise<T> {
    let natsFailure = 'NATS not connected';
    // A request sent with no answer back may have been applied.
    let unknown = false;
    if (this.natsConnected) {
      let body: unknown;
      try {
        body = await firstValueFrom(this.client.send<unknown>(pattern, payload).pipe(timeout(this.options.timeoutMs)));
      } catch (e) {
        if (isModuleError(e) && e.error.code !== 'UNAVAILABLE') throw new ModuleUnavailableError(module, `${e.error.code}: ${e.error.message}`);
        unknown = !isModuleError(e);
        natsFailure = isModuleError(e) ? e.error.message : String((e as Error)?.message ?? e);
      }
      if (body !== undefined) {
        let answer: T | undefined;
        try {
          answer = reply(body);
        } catch (e) {
          throw new ModuleUnavailableError(module, (e as Error).message);
        }
        if (answer === undefined) throw new ModuleUnavailableError(module, `unexpected ${path} reply`);
        return answer;
      }
    }
    try {
      const res = await fetch(`${this.options.httpUrls[module]}/internal/v1/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${payload.token}`, 'x-correlation-id': payload.correlationId },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const isJson = (res.headers.get('content-type') ?? '').startsWith('application/json');
      const body: unknown = isJson ? await res.json() : Buffer.from(await res.arrayBuffer());
      const answer = res.ok ? reply(body) : undefined;
      if (answer !== undefined) return answer;
      // The module answered: whatever it says, it committed nothing for this request.
      throw new ModuleUnavailableError(module, `${natsFailure}; HTTP fallback: ${isModuleError(body) ? `${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`}`, unknown);
    } catch (e) {
      if (e instanceof ModuleUnavailableError) throw e;
      const refused = (e as { cause?: { code?: unknown } }).cause?.code === 'ECONNREFUSED';
      throw new ModuleUnavailableError(module, `${natsFailure}; HTTP fallback: ${(e as Error).message}`, unknown || !refused);
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
