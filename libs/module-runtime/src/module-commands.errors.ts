/** Why a module refused a whole command batch (per-mutation outcomes are results, not errors). */
export enum ModuleCommandErrorCode {
  /** The forwarded bearer token failed verification in the module. */
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  /** The command's tenant differs from the token's tenant. */
  TENANT_MISMATCH = 'TENANT_MISMATCH',
  /** The command is malformed (not produced by sync-ingest). */
  BAD_COMMAND = 'BAD_COMMAND',
  /** The module's database failed; nothing was committed, the batch may be retried. */
  UNAVAILABLE = 'UNAVAILABLE',
}

export class ModuleCommandError extends Error {
  constructor(
    readonly code: ModuleCommandErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ModuleCommandError';
  }
}
