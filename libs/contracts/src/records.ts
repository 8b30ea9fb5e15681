/** A record as it travels on the wire: system fields plus the entity's camelCase fields. */
export interface SyncRecord {
  id: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
  facilityId?: string;
  [field: string]: unknown;
}

export type FieldValue = string | number | boolean | null;
export type RecordData = Record<string, unknown>;
