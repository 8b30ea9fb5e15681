import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every entity table keeps its record as wire JSON (`wire_json`, the PROTOCOL.md record), written
 * by the module with each write, so a pull hands rows out without formatting them: a record is
 * written once and pulled by every device of its facility. NULL (rows written before this
 * migration, or by a writer that does not set it) is formatted from the columns at read time.
 * Never edit once landed; add a new migration instead.
 */
const TABLES = ['drug_catalogue', 'prescriptions', 'prescription_items', 'dispensing_records'];

export class AddPharmacyRecordWireJson1796515200000 implements MigrationInterface {
  name = 'AddPharmacyRecordWireJson1796515200000';

  async up(q: QueryRunner): Promise<void> {
    for (const t of TABLES) await q.query(`ALTER TABLE pharmacy.${t} ADD COLUMN wire_json text`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of TABLES) await q.query(`ALTER TABLE pharmacy.${t} DROP COLUMN wire_json`);
  }
}
