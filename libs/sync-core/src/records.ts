import { SyncRecord } from '@clinisync/contracts';
import { bytesToHex, hexToBytes } from './bytes';
import { hashing } from './hashing';
import { EntityDef } from './registry';

/**
 * A record as a module stores it: entity fields (camelCase, incl. facilityId) plus the
 * version at which each field last changed, which makes three-way merge possible without
 * keeping every historical version.
 */
export interface StoredRecord {
  id: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
  fields: Record<string, unknown>;
  fieldVersions: Record<string, number>;
}

/** The wire shape (PROTOCOL.md): system fields first, then every registry field (null when unset). */
export function toSyncRecord(def: EntityDef, record: StoredRecord): SyncRecord {
  const out: SyncRecord = {
    id: record.id,
    version: record.version,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    deletedAt: record.deletedAt,
  };
  for (const f of def.fields) out[f.name] = record.fields[f.name] ?? null;
  return out;
}

/** Wire field order of an entity's records: system fields, then the registry fields. */
export function syncRecordKeys(def: EntityDef): string[] {
  return ['id', 'version', 'createdAt', 'updatedAt', 'deletedAt', ...def.fields.map((f) => f.name)];
}

/**
 * Writes records of `def` as wire JSON, the same text as `JSON.stringify(toSyncRecord(...))`
 * without building the wire object. Modules store it with every write (`wire_json`), so pulls
 * hand records out without formatting them.
 */
export function syncRecordJsonWriter(def: EntityDef): (record: StoredRecord) => string {
  const system = ['id', 'version', 'createdAt', 'updatedAt', 'deletedAt'].map((k, i) => `${i === 0 ? '{' : ','}${JSON.stringify(k)}:`);
  const fields = def.fields.map((f) => ({ name: f.name, prefix: `,${JSON.stringify(f.name)}:` }));
  const value = (v: unknown) => (v === null || v === undefined ? 'null' : JSON.stringify(v));
  return (r) => {
    let out = system[0] + JSON.stringify(r.id) + system[1] + JSON.stringify(r.version) + system[2] + value(r.createdAt) + system[3] + value(r.updatedAt) + system[4] + value(r.deletedAt);
    for (const f of fields) out += f.prefix + value(r.fields[f.name]);
    return `${out}}`;
  };
}

const writers = new WeakMap<EntityDef, (record: StoredRecord) => string>();
const written = new WeakMap<StoredRecord, string>();

/**
 * The wire JSON of a record (`syncRecordJsonWriter`), written once per record object: a module
 * stores it with the row and embeds it in the change event. Records are values, never changed
 * once built, so the text of an object never goes stale.
 */
export function recordJson(def: EntityDef, record: StoredRecord): string {
  let json = written.get(record);
  if (json === undefined) {
    let write = writers.get(def);
    if (!write) {
      write = syncRecordJsonWriter(def);
      writers.set(def, write);
    }
    json = write(record);
    written.set(record, json);
  }
  return json;
}

/** Fields whose last change is newer than `baseVersion`. */
export function fieldsChangedSince(record: StoredRecord, baseVersion: number): string[] {
  return Object.entries(record.fieldVersions)
    .filter(([, v]) => v > baseVersion)
    .map(([k]) => k)
    .sort();
}

const NAMESPACE = hexToBytes('6f0c3b8e9a1d4c2b8e7f5a4d3c2b1a09');

/**
 * The conflict id of a mutation is derived from its key (UUID v5-style over sha1), so a module
 * that answers a redelivered command from its inbox and sync-ingest agree on it.
 */
export function conflictIdFor(tenantId: string, clientMutationId: string): string {
  return nameBasedUuid(`${tenantId}:${clientMutationId}`);
}

/**
 * The id of the change event a mutation's write publishes (its `Nats-Msg-Id`): fixed by tenant
 * and key, so a re-publish at any time is a duplicate JetStream or a consumer drops.
 */
export function changeEventIdFor(tenantId: string, clientMutationId: string): string {
  return nameBasedUuid(`change:${tenantId}:${clientMutationId}`);
}

/** A version-5 style UUID of `name` in the CliniSync namespace. */
function nameBasedUuid(name: string): string {
  const h = hashing().sha1(NAMESPACE, name);
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const hex = bytesToHex(h.subarray(0, 16));
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Normalises values to the form Postgres stores and returns them, so a record in memory (its
 * events, its stored wire JSON) reads the same as the record read back: datetimes as ISO 8601
 * UTC with milliseconds, UUIDs in lower case.
 */
export function normaliseData(def: EntityDef, data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...data };
  for (const f of def.fields) {
    const v = out[f.name];
    if (typeof v !== 'string') continue;
    if (f.type === 'datetime' && !Number.isNaN(Date.parse(v))) out[f.name] = new Date(v).toISOString();
    else if (f.type === 'uuid') out[f.name] = v.toLowerCase();
  }
  return out;
}
