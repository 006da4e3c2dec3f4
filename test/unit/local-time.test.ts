import { isTimeZone, localDay, localDayNumber, localWeekNumber, offsetMinutes, startOfLocalDayNumber } from '../../api/src/base/time';

// The programme's calendar (api/src/base/time.ts): days and weeks in its time zone, whatever the offsets do.
describe('local days and weeks in the programme time zone', () => {
  it('knows IANA zones and refuses the rest', () => {
    expect(isTimeZone('Europe/London')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(isTimeZone('')).toBe(false);
    expect(isTimeZone('x'.repeat(65))).toBe(false);
  });

  it('puts an instant on the local calendar day of the zone', () => {
    const at = new Date('2026-03-01T03:30:00Z');
    expect(localDay(at, 'UTC')).toBe('2026-03-01');
    expect(localDay(at, 'America/New_York')).toBe('2026-02-28');
    expect(localDay(at, 'Asia/Tokyo')).toBe('2026-03-01');
    expect(localDayNumber(at, 'America/New_York')).toBe(localDayNumber(at, 'UTC') - 1);
  });

  it('numbers consecutive local days by one across a DST change, and weeks from Monday', () => {
    // Europe/London moves to BST on 2026-03-29: the day before and after are still one apart.
    const sat = localDayNumber(new Date('2026-03-28T12:00:00Z'), 'Europe/London');
    const sun = localDayNumber(new Date('2026-03-29T12:00:00Z'), 'Europe/London');
    const mon = localDayNumber(new Date('2026-03-30T12:00:00Z'), 'Europe/London');
    expect([sun - sat, mon - sun]).toEqual([1, 1]);
    const weekOf = (iso: string) => localWeekNumber(new Date(iso), 'Europe/London');
    expect(weekOf('2026-03-29T22:00:00Z')).toBe(weekOf('2026-03-23T00:30:00Z')); // Sunday night and the Monday before
    expect(weekOf('2026-03-29T23:30:00Z')).toBe(weekOf('2026-03-23T00:30:00Z') + 1); // 00:30 BST Monday: a new week
  });

  it('finds when a local day begins, in and out of summer time', () => {
    const day = localDayNumber(new Date('2026-07-01T12:00:00Z'), 'Europe/London');
    expect(startOfLocalDayNumber(day, 'Europe/London').toISOString()).toBe('2026-06-30T23:00:00.000Z');
    const winter = localDayNumber(new Date('2026-01-15T12:00:00Z'), 'America/New_York');
    expect(startOfLocalDayNumber(winter, 'America/New_York').toISOString()).toBe('2026-01-15T05:00:00.000Z');
    expect(offsetMinutes(new Date('2026-07-01T12:00:00Z'), 'Asia/Kolkata')).toBe(330);
  });
});
