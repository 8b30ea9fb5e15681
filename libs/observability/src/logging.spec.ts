import { loggerParams } from './logging';

type Serializers = { req: (r: unknown) => unknown; res: (r: unknown) => unknown };

describe('request logging', () => {
  const serializers = (loggerParams('sync-ingest').pinoHttp as { serializers: Serializers }).serializers;

  it('logs method, URL and status only: no bodies, tokens or the security headers of every answer', () => {
    expect(serializers.req({ method: 'POST', url: '/api/v1/sync/push', headers: { authorization: 'Bearer x' }, body: { phone: '+254' } })).toEqual({
      method: 'POST',
      url: '/api/v1/sync/push',
    });
    expect(serializers.res({ statusCode: 200, headers: { 'content-security-policy': "default-src 'self'" } })).toEqual({ statusCode: 200 });
  });
});
