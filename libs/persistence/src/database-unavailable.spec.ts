import { DatabaseUnavailableError, isConnectionFailure } from './database-unavailable';

describe('isConnectionFailure (typed outage detection, by code)', () => {
  it.each([
    ['ECONNREFUSED', true],
    ['ECONNRESET', true],
    ['ETIMEDOUT', true],
    ['08006', true], // connection_failure
    ['08001', true], // sqlclient_unable_to_establish_sqlconnection
    ['57P01', true], // admin_shutdown
    ['57P02', true], // crash_shutdown
    ['57P03', true], // cannot_connect_now (starting up)
    ['23505', false], // unique_violation: a race, not an outage
    ['40001', false], // serialization_failure
    ['42P01', false], // undefined_table
  ])('%s -> %s', (code, expected) => {
    expect(isConnectionFailure(Object.assign(new Error('x'), { code }))).toBe(expected);
    expect(isConnectionFailure({ driverError: { code } })).toBe(expected);
  });

  it('reads no message text: an uncoded "ECONNREFUSED" error is not an outage', () => {
    expect(isConnectionFailure(new Error('connect ECONNREFUSED 127.0.0.1:5432'))).toBe(false);
    expect(isConnectionFailure(undefined)).toBe(false);
  });

  it('keeps the driver error as its cause', () => {
    const cause = new Error('Connection terminated unexpectedly');
    const e = new DatabaseUnavailableError(cause);
    expect(e.cause).toBe(cause);
    expect(e.message).toContain('Connection terminated unexpectedly');
  });
});
