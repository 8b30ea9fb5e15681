import { CanActivate, ExecutionContext, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { JwtVerifier, bearerToken } from './jwt-verifier';
import { Principal } from './principal';

export const IS_PUBLIC = 'clinisync:public';
/** Marks a route (health, metrics) as not requiring a token. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

interface AuthedRequest {
  headers: Record<string, string | string[] | undefined>;
  principal?: Principal;
  token?: string;
}

/** Verifies the bearer JWT on every non-public route; failures become 401 via AuthError. */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly verifier: JwtVerifier,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const header = req.headers.authorization;
    const token = bearerToken(Array.isArray(header) ? header[0] : header);
    req.principal = await this.verifier.verify(token);
    req.token = token;
    return true;
  }
}

/** The verified caller of the current request. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const req = ctx.switchToHttp().getRequest<AuthedRequest>();
  if (!req.principal) throw new Error('CurrentPrincipal used on a public route');
  return req.principal;
});

/** The raw bearer token of the current request (forwarded to modules, which verify it again). */
export const BearerToken = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  const req = ctx.switchToHttp().getRequest<AuthedRequest>();
  return req.token ?? '';
});
