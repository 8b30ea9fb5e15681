export * from './auth.errors';
export * from './principal';
export * from './jwt-verifier';
export * from './dev-issuer';
export * from './ability';
export * from './auth.guard';
