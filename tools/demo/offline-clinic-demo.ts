/**
 * `npm run demo`: an offline clinic day, narrated, against a running platform (`npm start`).
 * A reception desktop works offline (file-backed SQLite), a nurse at another clinic edits
 * online, the desktop reconnects, the overlapping edit surfaces as a conflict, a clinician
 * resolves it, and both devices converge.
 *
 * Env: CLINISYNC_URL (default http://127.0.0.1:3100); AUTH_DEV_ISSUER_DIR (default
 * .data/dev-issuer, the dev issuer `npm start` trusts); AUTH_ISSUER / AUTH_AUDIENCE as for
 * `npm run token`. Each run uses a fresh tenant, so runs never see each other's records.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadDevIssuerKeys, signDevToken } from '@clinisync/auth';
import { ClientRecord, SyncClient, SyncHttpError, SyncReport } from '@clinisync/sync-client';

const ROOT = resolve(__dirname, '..', '..');
const BASE_URL = (process.env.CLINISYNC_URL ?? 'http://127.0.0.1:3100').replace(/\/+$/, '');
const ISSUER_DIR = resolve(ROOT, process.env.AUTH_DEV_ISSUER_DIR ?? '.data/dev-issuer');
const started = Date.now();

function say(line: string): void {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
  process.stdout.write(`[${t}s] ${line}\n`);
}
function detail(line: string): void {
  process.stdout.write(`         ${line}\n`);
}

/** The HTTP status behind an SDK error, if any. */
function httpStatus(e: unknown): number | undefined {
  for (let cur: unknown = e; cur instanceof Error; cur = (cur as Error & { cause?: unknown }).cause) {
    if (cur instanceof SyncHttpError) return cur.status;
  }
  return undefined;
}

function pushLine(r: SyncReport): string {
  const p = r.push;
  const pull = r.pull ? `; pull: ${r.pull.pages} page(s), ${r.pull.applied} record(s) applied` : '';
  return p && p.sent > 0
    ? `push: ${p.sent} sent in ${p.requests} request(s), ${p.applied} applied, ${p.merged} merged, ${p.conflicts} conflict(s), ${p.deadLettered} dead-lettered${pull}`
    : `push: nothing queued${pull}`;
}

function show(r: ClientRecord | Record<string, unknown> | undefined): string {
  if (!r) return '(not found)';
  const { givenName, familyName, phone, address, version, _status } = r as Record<string, unknown>;
  return (
    `${givenName} ${familyName ?? ''}`.trim() +
    `, phone ${phone ?? '-'}, address ${address ?? '-'}, version ${version ?? '-'}${_status ? `, ${_status}` : ''}`
  );
}

async function reachable(): Promise<boolean> {
  try {
    return (await fetch(`${BASE_URL}/health/live`, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  say(`CliniSync offline clinic demo against ${BASE_URL}`);
  if (!(await reachable())) {
    say(
      `No platform answers at ${BASE_URL}. Start it with \`npm start\` (or set CLINISYNC_URL) and run \`npm run demo\` again.`,
    );
    return 1;
  }
  if (!existsSync(join(ISSUER_DIR, 'jwks.json'))) {
    say(
      `No dev issuer keys in ${ISSUER_DIR}: \`npm start\` creates them (or set AUTH_DEV_ISSUER_DIR to the platform's).`,
    );
    return 1;
  }
  const keys = await loadDevIssuerKeys(ISSUER_DIR);
  const tenantId = `demo-${Date.now().toString(36)}`;
  const token = (sub: string, roles: string[], facilities: string[]) =>
    signDevToken(keys, {
      sub,
      tenantId,
      roles,
      facilities,
      issuer: process.env.AUTH_ISSUER,
      audience: process.env.AUTH_AUDIENCE,
    });
  const receptionist = await token('reception-wanjiku', ['clerk'], ['f-1']);
  const nurseToken = await token('nurse-achieng', ['nurse'], ['f-2', 'f-1']);
  const clinician = await token('dr-wekesa', ['clinician'], ['f-1']);
  detail(`tenant ${tenantId}; receptionist (clerk, f-1), nurse (f-2 covering f-1), clinician (f-1)`);

  const dir = mkdtempSync(join(tmpdir(), 'clinisync-demo-'));
  let desktopToken = receptionist;
  const desktop = SyncClient.open({
    database: join(dir, 'reception-desktop.db'),
    baseUrl: BASE_URL,
    token: async () => desktopToken,
    deviceId: 'reception-desktop-1',
  });
  const nurse = SyncClient.open({
    baseUrl: BASE_URL,
    token: async () => nurseToken,
    deviceId: 'nurse-tablet-7',
  });
  nurse.setOnline(true);
  desktop.on('conflict', (c) =>
    detail(
      `! conflict on ${c.entity} …${c.recordId.slice(-8)}: ${c.conflictingFields.join(', ')} (mine v${c.baseVersion}, server v${c.serverVersion})`,
    ),
  );
  desktop.on('dead-letter', (d) => detail(`! dead letter: ${d.op} ${d.entity} ${d.code}: ${d.message}`));

  let pullAvailable = true;
  const syncDesktop = async (): Promise<SyncReport> => {
    if (pullAvailable) {
      try {
        return await desktop.sync();
      } catch (e) {
        if (httpStatus(e) !== 404) throw e;
        pullAvailable = false;
        detail('(GET /api/v1/sync/pull answers 404 on this platform: pushing only)');
      }
    }
    return desktop.sync({ pull: false });
  };

  try {
    say('1. Morning at Nyalenda clinic: the reception desktop registers Amina Otieno and syncs.');
    const amina = await desktop.write((tx) =>
      tx.create('patients', {
        givenName: 'Amina',
        familyName: 'Otieno',
        sex: 'female',
        facilityId: 'f-1',
        phone: '+254700000100',
      }),
    );
    detail(pushLine(await syncDesktop()));
    detail(`desktop: ${show(await desktop.get('patients', amina))}`);

    say(
      "2. The link drops. Offline, the receptionist registers three patients, books two appointments and corrects Amina's phone.",
    );
    const booked = await desktop.write((tx) => {
      const patients = ['Baraka', 'Chebet', 'Daudi'].map((givenName) =>
        tx.create('patients', { givenName, familyName: 'Kamau', facilityId: 'f-1' }),
      );
      patients.slice(0, 2).forEach((patientId, i) =>
        tx.create('appointments', {
          patientId,
          facilityId: 'f-1',
          scheduledAt: `2026-11-2${5 + i}T09:00:00Z`,
          status: 'booked',
          reason: 'follow-up',
        }),
      );
      return patients;
    });
    await desktop.write((tx) => tx.update('patients', amina, { phone: '+254700000111' }));
    const s = desktop.status();
    detail(
      `${s.pending} change(s) queued in the local outbox, nothing sent; new patients ${booked.map((id) => `…${id.slice(-8)}`).join(', ')}`,
    );

    say('3. Meanwhile a nurse at the district clinic, working online, updates Amina: new phone and address.');
    await nurse.write((tx) =>
      tx.update(
        'patients',
        amina,
        { phone: '+254700000122', address: 'Kisumu, Nyalenda B' },
        { baseVersion: 1 },
      ),
    );
    try {
      detail(`server (read online by the nurse): ${show(await nurse.get('patients', amina))}`);
    } catch (e) {
      detail(`(online read unavailable: HTTP ${httpStatus(e) ?? '?'}); the nurse's push was applied`);
    }

    say('4. The desktop reconnects and syncs: push, then pull.');
    detail(pushLine(await syncDesktop()));
    detail(
      `desktop: ${show(await desktop.get('patients', amina))}  (own phone kept, nurse's address pulled)`,
    );
    const [conflict] = desktop.conflicts();
    if (!conflict) {
      say('No conflict surfaced (unexpected): stopping here.');
      return 1;
    }
    detail(
      `open conflict …${conflict.conflictId.slice(-8)}: desk says ${String(conflict.mine.phone)}, server says ${String(conflict.server.phone)}`,
    );

    say(
      "5. Dr. Wekesa signs in on the desktop, checks with Amina at the desk, and keeps the receptionist's number (merge).",
    );
    desktopToken = clinician;
    try {
      const resolved = await desktop.resolveConflict(
        conflict.conflictId,
        'merge',
        { phone: String(conflict.mine.phone) },
        'confirmed with the patient at the desk',
      );
      detail(`resolved on the server: version ${resolved.version ?? '?'}`);
    } catch (e) {
      if (httpStatus(e) !== 404) throw e;
      detail(
        '(POST /api/v1/sync/conflicts/{id}/resolve answers 404 on this platform: the conflict stays open)',
      );
    } finally {
      desktopToken = receptionist;
    }

    say('6. The desktop syncs again; the nurse reads Amina online.');
    detail(pushLine(await syncDesktop()));
    const onDesktop = await desktop.get('patients', amina);
    detail(`desktop: ${show(onDesktop)}`);
    let onServer: ClientRecord | undefined;
    try {
      onServer = await nurse.get('patients', amina);
      detail(`nurse:   ${show(onServer)}`);
    } catch (e) {
      detail(`(online read unavailable: HTTP ${httpStatus(e) ?? '?'})`);
    }
    const same =
      onServer !== undefined &&
      ['phone', 'address', 'givenName', 'familyName', 'version'].every(
        (f) => onDesktop?.[f] === onServer?.[f],
      );
    const end = desktop.status();
    say(
      same
        ? `Converged: both devices show the same record. Desktop: ${end.pending} pending, ${end.openConflicts} open conflict(s), ${end.deadLetters} dead letter(s).`
        : `Not converged yet (an endpoint is missing or a change is still pending): ${end.pending} pending, ${end.openConflicts} open conflict(s).`,
    );
    return same ? 0 : 2;
  } finally {
    await desktop.close();
    await nurse.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`demo failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
