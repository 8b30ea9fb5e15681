/**
 * Prints the CREATE statements for a module's entity tables from the entity registry. Used when
 * authoring a migration (migrations embed the literal SQL and are never edited afterwards);
 * the schema int-spec checks that migrated tables still match the registry.
 * Usage: ts-node tools/schema/print-module-ddl.ts <module>
 */
import { EntityDef, entitiesOfModule, findEntity, referenceFields } from '@clinisync/sync-core';
import { sqlType } from '@clinisync/module-runtime';
import { ModuleName } from '@clinisync/contracts';

export function entityDdl(def: EntityDef): string[] {
  const t = `${def.module}.${def.table}`;
  const cols = ['  tenant_id text NOT NULL', '  id uuid NOT NULL'];
  for (const f of def.fields) {
    let c = `  ${f.column} ${sqlType(f)}${f.required ? ' NOT NULL' : ''}`;
    if (f.type === 'enum') c += ` CHECK (${f.column} IN (${(f.values ?? []).map((v) => `'${v}'`).join(', ')}))`;
    cols.push(c);
  }
  cols.push(
    '  version integer NOT NULL CHECK (version > 0)',
    `  field_versions jsonb NOT NULL DEFAULT '{}'::jsonb`,
    '  created_at timestamptz NOT NULL',
    '  updated_at timestamptz NOT NULL',
    '  deleted_at timestamptz',
    '  created_xid xid8 NOT NULL DEFAULT pg_current_xact_id()',
    '  change_xid xid8 NOT NULL DEFAULT pg_current_xact_id()',
    `  change_seq bigint NOT NULL DEFAULT nextval('${def.module}.change_seq')`,
    '  PRIMARY KEY (tenant_id, id)',
  );
  for (const f of referenceFields(def)) {
    const parent = findEntity(f.references as string);
    if (parent && parent.module === def.module) {
      cols.push(`  FOREIGN KEY (tenant_id, ${f.column}) REFERENCES ${parent.module}.${parent.table} (tenant_id, id)`);
    }
  }
  const out = [`CREATE TABLE ${t} (\n${cols.join(',\n')}\n)`];
  out.push(`CREATE INDEX ${def.table}_feed ON ${t} (tenant_id, change_xid, change_seq)`);
  if (def.facilityScoped) out.push(`CREATE INDEX ${def.table}_facility ON ${t} (tenant_id, facility_id)`);
  for (const f of referenceFields(def)) out.push(`CREATE INDEX ${def.table}_${f.column} ON ${t} (tenant_id, ${f.column})`);
  return out;
}

if (require.main === module) {
  const m = process.argv[2] as ModuleName;
  for (const def of entitiesOfModule(m)) for (const s of entityDdl(def)) console.log(`${s};\n`);
}
