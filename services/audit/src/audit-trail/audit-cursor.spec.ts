import { decodeAuditCursor, encodeAuditCursor } from './audit-cursor';

describe('audit cursor', () => {
  it.each([0, 1, 42, 9_007_199_254_740_991])(
    'round-trips sequence %d through an opaque base64url string',
    (n) => {
      const cursor = encodeAuditCursor(n);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeAuditCursor(cursor)).toBe(n);
    },
  );

  it.each([
    ['garbage', 'not a cursor!'],
    ['base64url of non-JSON', Buffer.from('hello').toString('base64url')],
    ['another version', Buffer.from(JSON.stringify({ v: 2, after: 1 })).toString('base64url')],
    ['a negative sequence', Buffer.from(JSON.stringify({ v: 1, after: -1 })).toString('base64url')],
    ['a fractional sequence', Buffer.from(JSON.stringify({ v: 1, after: 1.5 })).toString('base64url')],
    ['an empty string', ''],
  ])('refuses %s', (_name, cursor) => {
    expect(decodeAuditCursor(cursor)).toBeUndefined();
  });
});
