import { OpenSyncClientOptions, SyncClient } from '../src';
import { FakePlatform, recordingSleep, steppingClock } from './fake-platform';

export const FACILITY = 'f-1';

export function patientData(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { givenName: 'Amina', familyName: 'Otieno', facilityId: FACILITY, ...overrides };
}

export function visitData(
  patientId: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    patientId,
    facilityId: FACILITY,
    startedAt: '2026-11-21T09:00:00.000Z',
    reason: 'fever',
    ...overrides,
  };
}

/** A client over an in-memory store talking to `platform`, with pinned clock and randomness and a recording sleep. */
export function clientFor(
  platform: FakePlatform,
  options: Partial<OpenSyncClientOptions> = {},
): { client: SyncClient; waits: number[] } {
  const { sleep, waits } = recordingSleep();
  const client = SyncClient.open({
    baseUrl: 'http://platform.test',
    token: async () => 'test-token',
    deviceId: 'tablet-7',
    fetch: platform.fetch,
    sleep,
    random: () => 0.5,
    clock: steppingClock(),
    ...options,
  });
  return { client, waits };
}
