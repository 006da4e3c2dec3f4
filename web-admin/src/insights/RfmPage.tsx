import { useSearchParams } from 'react-router';
import { useQuery } from 'urql';
import { AnalyticsRfmDocument, type RfmSegment } from '../gql/graphql';
import { formatDate, formatInteger } from '../shared/format';
import { PageHeader, QueryState } from '../shared/ui';
import { RfmGridCard } from './RfmGridCard';
import { RfmSegmentTable } from './RfmSegmentTable';
import { SegmentDetailCard } from './SegmentDetailCard';
import { dayEndingAt, earliestAsOfDay, endOfDayUtc, isRfmSegment, parseAsOfDay, rfmSegmentOrder, todayUtc } from './rfm-segments';

/**
 * Members per RFM segment as of a day the analyst chooses (today by default), the R × FM grid, and a chosen segment's
 * top products. The day and the segment live in the URL (`?asOf=YYYY-MM-DD&segment=CHAMPIONS`), so a view can be shared.
 */
export function RfmPage() {
  const [params, setParams] = useSearchParams();
  const today = todayUtc();
  const day = parseAsOfDay(params.get('asOf'), today) ?? today;
  const asOf = endOfDayUtc(day);
  const [{ data, fetching, error }, refetch] = useQuery({ query: AnalyticsRfmDocument, variables: { asOf } });
  const rfm = data?.analytics.rfm;
  const currency = data?.programmeSettings.pointValueCurrency ?? null;
  const segments = rfm?.segments ?? [];
  const chosen = chosenSegment(params.get('segment'), segments);
  const chosenSummary = segments.find((s) => s.segment === chosen);

  /** The address's parameters with one set, or removed when null. */
  const paramsWith = (name: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    return next;
  };
  const linkTo = (segment: RfmSegment) => `?${paramsWith('segment', segment).toString()}`;
  // Today is the default, so the address leaves it out (and a shared link stays current).
  const setDay = (value: string) => {
    const next = parseAsOfDay(value, today);
    setParams(paramsWith('asOf', next && next !== today ? next : null));
  };

  return (
    <section className="page" aria-label="RFM segments">
      <PageHeader
        title="RFM segments"
        summary={
          rfm &&
          rfm.scoredMembers > 0 && (
            <span data-testid="rfm-summary">
              {formatInteger(rfm.scoredMembers)} {rfm.scoredMembers === 1 ? 'member' : 'members'} scored on recency, frequency and
              spend of their orders up to the end of{' '}
              <time dateTime={rfm.asOf} data-testid="rfm-as-of">
                {formatDate(dayEndingAt(rfm.asOf))}
              </time>{' '}
              (UTC)
            </span>
          )
        }
        actions={
          <div className="filters" role="group" aria-label="As of">
            <label className="inline-control as-of-control">
              As of
              <input type="date" value={day} min={earliestAsOfDay} max={today} required onChange={(e) => setDay(e.target.value)} data-testid="rfm-as-of-input" />
            </label>
            {day !== today && (
              <button type="button" className="secondary" onClick={() => setDay(today)} data-testid="rfm-as-of-today">
                Today
              </button>
            )}
          </div>
        }
      />
      <QueryState
        fetching={fetching}
        error={error}
        hasData={Boolean(rfm)}
        isEmpty={rfm?.scoredMembers === 0}
        emptyText={`No member had placed an order by the end of ${formatDate(dayEndingAt(asOf))}. RFM scores members on their orders, so segments appear once orders are recorded or imported${day === today ? '' : '; choose a later day'}.`}
        refetch={refetch}
        loadingText="Scoring members…"
        testId="rfm"
      >
        {rfm && (
          <>
            <RfmSegmentTable segments={segments} currency={currency} chosen={chosen} linkTo={linkTo} />
            <div className="card-grid">
              <RfmGridCard cells={rfm.cells} chosen={chosen} linkTo={linkTo} />
              {chosenSummary && (
                <SegmentDetailCard
                  summary={chosenSummary}
                  asOf={rfm.asOf}
                  isToday={day === today}
                  currency={currency}
                  linkTo={linkTo}
                />
              )}
            </div>
          </>
        )}
      </QueryState>
    </section>
  );
}

/** The segment in the URL, else the one with the most members (the first in the table's order on a tie). */
function chosenSegment(inUrl: string | null, segments: readonly { segment: RfmSegment; members: number }[]): RfmSegment | null {
  if (isRfmSegment(inUrl)) return inUrl;
  const members = new Map(segments.map((s) => [s.segment, s.members]));
  let best: RfmSegment | null = null;
  for (const segment of rfmSegmentOrder) {
    if ((members.get(segment) ?? 0) > (best ? members.get(best)! : 0)) best = segment;
  }
  return best;
}
