import { decodeTimeCursor, encodeTimeCursor, isTimeKeyAt } from '../../api/src/base/pagination';

// Keyset cursors on (timestamp, id) (api/src/base/pagination.ts): the time must survive to the microsecond, and a time
// PostgreSQL cannot read must be refused before it reaches the database.
describe('time-keyed cursors', () => {
  const id = '01900000-0000-7000-8000-000000000000';

  it('gives back the key it was made from, microseconds included', () => {
    const key = { at: '2026-01-02T03:04:05.123456Z', id };
    expect(decodeTimeCursor(encodeTimeCursor(key))).toEqual(key);
  });

  it('reads only real instants in years 1 to 9999', () => {
    expect(['2024-02-29T00:00:00.000000Z', '0001-01-01T00:00:00.000000Z', '9999-12-31T23:59:59.999999Z'].map(isTimeKeyAt)).toEqual([true, true, true]);
    const unreadable = [
      '2025-02-29T00:00:00.000000Z',
      '2026-04-31T00:00:00.000000Z',
      '2026-01-01T24:00:00.000000Z',
      '2026-01-01T23:60:00.000000Z',
      '0000-01-01T00:00:00.000000Z',
      '+275760-09-13T00:00:00.000000Z',
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T00:00:00.000000+01:00',
      '',
    ];
    expect(unreadable.filter(isTimeKeyAt)).toEqual([]);
  });

  it('refuses with BAD_USER_INPUT on the argument a cursor of another kind or with anything more', () => {
    const encoded = (text: string) => Buffer.from(text).toString('base64url');
    for (const cursor of [encoded(`c:${id}`), encoded(`k:2026-01-01T00:00:00.000000Z|${id}|x`), encoded(`k:2026-01-01T00:00:00.000000Z|`), 'k:2026']) {
      let thrown: unknown;
      try {
        decodeTimeCursor(cursor, 'before');
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', fields: [{ path: 'before', message: 'is not a cursor from this API' }] } });
    }
  });
});
