import { ConflictPolicy, EntityDef } from './registry';

/**
 * What each conflict policy means for a client write (PROTOCOL.md "Push": conflict policy;
 * OFFLINE_FIRST.md §5). The one place these meanings are written: `decideMutation`, the module
 * runtime, sync-ingest and the client SDK all read them from here.
 */
export interface PolicyRules {
  /** Records are immutable once created: update and delete are `APPEND_ONLY`, never a conflict. */
  createsOnly: boolean;
  /** A stale update is merged when the fields the server changed since its base and the client's are disjoint. */
  mergesFields: boolean;
}

export const POLICY_RULES: Readonly<Record<ConflictPolicy, Readonly<PolicyRules>>> = {
  reject: { createsOnly: false, mergesFields: false },
  'field-merge': { createsOnly: false, mergesFields: true },
  'append-only': { createsOnly: true, mergesFields: false },
  // "Clients send movements, never balances; the server validates and derives" (PROTOCOL.md):
  // what a client may write under server authority is a movement, an immutable fact (inventory
  // SPEC: `server-authority (append-only)`); what the server derives is `clientWritable: false`.
  'server-authority': { createsOnly: true, mergesFields: false },
};

/** Whether records of `def` are immutable once created (corrections are new records). */
export function isAppendOnly(def: Pick<EntityDef, 'policy'>): boolean {
  return POLICY_RULES[def.policy].createsOnly;
}

/** Whether a stale update of `def` may be three-way merged instead of conflicting. */
export function mergesFields(def: Pick<EntityDef, 'policy'>): boolean {
  return POLICY_RULES[def.policy].mergesFields;
}
