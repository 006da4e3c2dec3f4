import { parseTraceparent } from '../../api/src/base/trace-context';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

describe('parseTraceparent (W3C Trace Context)', () => {
  it('reads a version 00 header', () => {
    expect(parseTraceparent(`00-${TRACE}-${PARENT}-01`)).toEqual({ version: '00', traceId: TRACE, parentId: PARENT, flags: '01' });
    expect(parseTraceparent(`00-${TRACE}-${PARENT}-00`)?.traceId).toBe(TRACE);
  });

  it('reads the version 00 fields of a later version, whatever follows them after a dash', () => {
    expect(parseTraceparent(`01-${TRACE}-${PARENT}-01`)).toEqual({ version: '01', traceId: TRACE, parentId: PARENT, flags: '01' });
    expect(parseTraceparent(`cc-${TRACE}-${PARENT}-09-what-a-later-version-adds`)?.traceId).toBe(TRACE);
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['upper-case hex', `00-${TRACE.toUpperCase()}-${PARENT}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${PARENT}-01`],
    ['an all-zero parent id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['version ff', `ff-${TRACE}-${PARENT}-01`],
    ['version 00 with more after its flags', `00-${TRACE}-${PARENT}-01-extra`],
    ['a later version with more after its flags but no dash', `01-${TRACE}-${PARENT}-01extra`],
    ['a short trace id', `00-${TRACE.slice(1)}-${PARENT}-01`],
    ['a long parent id', `00-${TRACE}-${PARENT}0-01`],
    ['a non-hex digit', `00-${TRACE.slice(0, 31)}g-${PARENT}-01`],
    ['one-digit flags', `00-${TRACE}-${PARENT}-1`],
    ['a one-digit version', `0-${TRACE}-${PARENT}-01`],
    ['other separators', `00_${TRACE}_${PARENT}_01`],
    ['surrounding spaces', ` 00-${TRACE}-${PARENT}-01 `],
    ['two headers joined by Node', `00-${TRACE}-${PARENT}-01, 00-${TRACE}-${PARENT}-01`],
    ['repeated headers left as a list', [`00-${TRACE}-${PARENT}-01`, `00-${TRACE}-${PARENT}-01`]],
  ])('ignores %s', (_what, header) => {
    expect(parseTraceparent(header)).toBeNull();
  });
});
