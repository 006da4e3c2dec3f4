import { useHarness } from '../support/harness';
import { build } from '../fixtures/build';

const lines: string[] = [];
const h = useHarness({ LOG_LEVEL: 'info' }, { logDestination: { write: (line: string) => lines.push(line) } });
const b = build(h);

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const ENROL = 'mutation E($input: EnrolMemberInput!) { enrolMember(input: $input) { id } }';

/** The log lines of the request sent with `x-request-id: requestId`. */
const linesOf = (requestId: string) => lines.map((l) => JSON.parse(l)).filter((l) => l.requestId === requestId || l.req?.id === requestId);

async function enrol(requestId: string, traceparent: string | null, token: string) {
  let req = h.http().post('/graphql').set('authorization', `Bearer ${token}`).set('x-request-id', requestId);
  if (traceparent !== null) req = req.set('traceparent', traceparent);
  const res = await req.send({ query: ENROL, variables: { input: { email: `${requestId}@test.example` } } });
  expect(res.body.errors).toBeUndefined();
}

describe('trace ids in logs', () => {
  it('carry the trace id of a valid traceparent on the request line and the domain events the request logs', async () => {
    const admin = await b.admin();
    await enrol('traced-1', `00-${TRACE}-00f067aa0ba902b7-01`, admin.token);

    const logged = linesOf('traced-1');
    expect(logged.map((l) => l.msg)).toEqual(expect.arrayContaining(['member.enrolled', 'request completed']));
    expect(logged.every((l) => l.traceId === TRACE)).toBe(true);
    // A later version's header is read too (its version 00 fields).
    await enrol('traced-2', `01-${TRACE}-00f067aa0ba902b7-01-more`, admin.token);
    expect(linesOf('traced-2').map((l) => l.traceId)).toEqual(expect.arrayContaining([TRACE]));
  });

  it.each([
    ['none', null],
    ['upper-case', `00-${TRACE.toUpperCase()}-00f067aa0ba902b7-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['version ff', `ff-${TRACE}-00f067aa0ba902b7-01`],
    ['version 00 with a suffix', `00-${TRACE}-00f067aa0ba902b7-01-x`],
    ['truncated', `00-${TRACE}-00f067aa0ba902b7`],
  ])('carry no trace id for a traceparent that is %s', async (what, traceparent) => {
    const admin = await b.admin();
    const requestId = `untraced-${what.replace(/\W+/g, '-')}`;
    await enrol(requestId, traceparent, admin.token);
    const logged = linesOf(requestId);
    // The capture works: the request's lines are there, without a trace id.
    expect(logged.map((l) => l.msg)).toEqual(expect.arrayContaining(['member.enrolled', 'request completed']));
    // (The raw header stays in the request line's headers, as any header does.)
    expect(logged.filter((l) => 'traceId' in l)).toEqual([]);
  });
});
