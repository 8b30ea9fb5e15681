/**
 * Child process for the e2e "client process killed between local write and push": opens a
 * client on the given SQLite file, writes offline, prints the ids as one JSON line, then idles
 * until the test kills it (SIGKILL: no close, no sync, nothing flushed by hand).
 *
 * Usage: node -r ts-node/register/transpile-only -r tsconfig-paths/register offline-writer.ts <db-file>
 */
import { SyncClient } from '../src';

async function main(): Promise<void> {
  const database = process.argv[2];
  if (!database) throw new Error('usage: offline-writer <db-file>');
  // Nothing listens on port 9: this device is offline.
  const client = SyncClient.open({
    database,
    baseUrl: 'http://127.0.0.1:9',
    token: async () => 'offline',
    deviceId: 'desk-killed',
  });
  const ids = await client.write((tx) => {
    const patient = tx.create('patients', {
      givenName: 'Halima',
      familyName: 'Said',
      facilityId: 'f-1',
      sex: 'female',
    });
    const visit = tx.create('visits', {
      patientId: patient,
      facilityId: 'f-1',
      startedAt: '2026-11-21T08:30:00Z',
      reason: 'antenatal check',
    });
    return { patient, visit };
  });
  await client.write((tx) => tx.update('patients', ids.patient, { phone: '+254700000077' }));
  process.stdout.write(`${JSON.stringify(ids)}\n`);
  setInterval(() => undefined, 60_000);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
