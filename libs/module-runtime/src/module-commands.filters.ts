import { ArgumentsHost, Catch, ExceptionFilter, HttpStatus, Logger, RpcExceptionFilter } from '@nestjs/common';
import { Observable, throwError } from 'rxjs';
import { ModuleErrorReply } from '@clinisync/contracts';
import { ModuleCommandError, ModuleCommandErrorCode } from './module-commands.errors';

const logger = new Logger('ModuleCommands');

/** The caller learns only that the module failed; the cause goes to this module's log. */
function toReply(e: unknown): ModuleErrorReply {
  if (e instanceof ModuleCommandError) return { error: { code: e.code, message: e.message } };
  logger.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  return { error: { code: ModuleCommandErrorCode.UNAVAILABLE, message: 'module failure' } };
}

function httpStatus(code: ModuleCommandErrorCode): number {
  switch (code) {
    case ModuleCommandErrorCode.UNAUTHENTICATED:
      return HttpStatus.UNAUTHORIZED;
    case ModuleCommandErrorCode.TENANT_MISMATCH:
      return HttpStatus.FORBIDDEN;
    case ModuleCommandErrorCode.BAD_COMMAND:
      return HttpStatus.BAD_REQUEST;
    case ModuleCommandErrorCode.UNAVAILABLE:
      return HttpStatus.SERVICE_UNAVAILABLE;
  }
}

/** NATS transport: a refused batch becomes an error reply `{error: {code, message}}`. */
@Catch()
export class ModuleRpcErrorFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => toReply(exception));
  }
}

/** Internal HTTP transport (fallback while NATS is down): same codes, HTTP statuses. */
@Catch()
export class ModuleHttpErrorFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<{ status(n: number): { json(b: unknown): void } }>();
    const reply = toReply(exception);
    const asHttp = exception as { getStatus?: () => number };
    if (!(exception instanceof ModuleCommandError) && typeof asHttp.getStatus === 'function') {
      res.status(asHttp.getStatus()).json({ error: { code: ModuleCommandErrorCode.BAD_COMMAND, message: 'bad request' } });
      return;
    }
    res.status(httpStatus(reply.error.code as ModuleCommandErrorCode)).json(reply);
  }
}
