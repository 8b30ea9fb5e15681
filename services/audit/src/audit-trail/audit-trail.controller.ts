import {
  Controller,
  ExecutionContext,
  Get,
  Logger,
  Param,
  Query,
  StreamableFile,
  UseGuards,
  createParamDecorator,
} from '@nestjs/common';
import { Readable } from 'node:stream';
import { StoredAuditEvent } from '@clinisync/contracts';
import { JwtAuthGuard, Principal } from '@clinisync/auth';
import { CORRELATION_HEADER, correlationIdFrom } from '@clinisync/observability';
import { ErrorResponse, sendAuditError } from '../http/http-error.filter';
import { ApiExportAudit, ApiGetAuditEvent, ApiListAuditEvents, ApiVerifyAuditChain, AuditApi } from '../http/openapi';
import { ChainVerification } from './audit-chain';
import { AuditCaller, AuditEventPage, AuditExport, AuditTrailService } from './audit-trail.service';

interface CallerRequest {
  headers: Record<string, string | string[] | undefined>;
  principal?: Principal;
  ip?: string;
}

/** The verified caller of the request with its correlation id, device and address (for audit records). */
export const Caller = createParamDecorator((_: unknown, ctx: ExecutionContext): AuditCaller => {
  const req = ctx.switchToHttp().getRequest<CallerRequest>();
  if (!req.principal) throw new Error('Caller used on a public route');
  const device = req.headers['x-device-id'];
  const deviceId = (Array.isArray(device) ? device[0] : device)?.slice(0, 200);
  return {
    principal: req.principal,
    correlationId: correlationIdFrom(req.headers[CORRELATION_HEADER]),
    deviceId,
    address: req.ip,
  };
});

const exportLogger = new Logger('AuditExport');

/**
 * An export as a streamed download. A failure before the first byte is a protocol error; after
 * it the connection is aborted, so a truncated file never looks complete.
 */
function download(exported: AuditExport): StreamableFile {
  return new StreamableFile(Readable.from(exported.chunks, { objectMode: false }), {
    type: exported.contentType,
    disposition: `attachment; filename="${exported.filename}"`,
  }).setErrorHandler((err, res) => sendAuditError(res as unknown as ErrorResponse, err, exportLogger));
}

/** PROTOCOL.md "Audit trail": role `auditor`, tenant from the token. */
@Controller('api/v1/audit')
@UseGuards(JwtAuthGuard)
@AuditApi()
export class AuditTrailController {
  constructor(private readonly audit: AuditTrailService) {}

  @Get('events')
  @ApiListAuditEvents()
  listEvents(@Caller() caller: AuditCaller, @Query() query: unknown): Promise<AuditEventPage> {
    return this.audit.listEvents(caller, query);
  }

  @Get('events/:id')
  @ApiGetAuditEvent()
  getEvent(
    @Caller() caller: AuditCaller,
    @Param('id') id: string,
    @Query() query: unknown,
  ): Promise<StoredAuditEvent> {
    return this.audit.getEvent(caller, id, query);
  }

  @Get('verify')
  @ApiVerifyAuditChain()
  verify(@Caller() caller: AuditCaller, @Query() query: unknown): Promise<ChainVerification> {
    return this.audit.verify(caller, query);
  }

  @Get('export')
  @ApiExportAudit()
  async export(@Caller() caller: AuditCaller, @Query() query: unknown): Promise<StreamableFile> {
    return download(await this.audit.export(caller, query));
  }
}
