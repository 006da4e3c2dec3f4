import { isRfmSegment, parseAsOfDay } from '../../web-admin/src/insights/rfm-segments';
import { ownValue } from '../../web-admin/src/shared/lookup';
import { valueDriverLabel } from '../../web-admin/src/models/value-drivers';

// Names an address or an API string may carry that a plain object finds on Object.prototype.
const prototypeNames = ['toString', 'constructor', 'hasOwnProperty', '__proto__', 'valueOf'];

describe('admin lookups of names from the address or the API', () => {
  it.each(prototypeNames)('%s is no RFM segment, and no label of a record', (name) => {
    expect(isRfmSegment(name)).toBe(false);
    expect(ownValue({ CHAMPIONS: 'Champions' }, name)).toBeUndefined();
  });

  it('a known name is found', () => {
    expect(isRfmSegment('CANT_LOSE_THEM')).toBe(true);
    expect(ownValue({ CHAMPIONS: 'Champions' }, 'CHAMPIONS')).toBe('Champions');
  });

  it('a model feature named after an Object property is spelt out, not looked up', () => {
    expect(valueDriverLabel('constructor')).toBe('Constructor');
    expect(valueDriverLabel('toString')).toBe('ToString');
  });
});

describe('the RFM page\'s as-of day', () => {
  const today = '2026-12-20';

  it.each([['2026-12-20'], ['2026-01-31'], ['1970-01-01']])('%s, a real day from 1970 to today, is kept', (day) => {
    expect(parseAsOfDay(day, today)).toBe(day);
  });

  it.each([['0000-01-01'], ['1969-12-31'], ['2026-12-21'], ['2026-02-30'], ['2026-1-5'], ['+02026-01-01'], [''], [null]])('%p falls back to today (null)', (day) => {
    expect(parseAsOfDay(day, today)).toBeNull();
  });
});
