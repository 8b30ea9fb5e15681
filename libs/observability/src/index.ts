export * from './correlation';
export * from './logging';
export * from './metrics';
export * from './health';
export * from './config';
export * from './production';
export * from './http-security';
export * from './openapi';
