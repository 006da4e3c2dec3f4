import { Link } from 'react-router';
import type { AnalyticsRfmQuery, RfmSegment } from '../gql/graphql';
import { dash, formatDecimal, formatInteger, formatMoney, formatPercent } from '../shared/format';
import { Card, DataTable } from '../shared/ui';
import { ordersPerMemberDigits, rfmSegmentDescriptions, rfmSegmentLabels, rfmSegmentOrder, shareDigits } from './rfm-segments';

export type SegmentSummary = AnalyticsRfmQuery['analytics']['rfm']['segments'][number];

interface Props {
  segments: readonly SegmentSummary[];
  currency: string | null;
  chosen: RfmSegment | null;
  /** The page's address with this segment chosen. */
  linkTo(segment: RfmSegment): string;
}

/** Every segment, empty ones too, best first: members and their share, orders and revenue, in total and per member. */
export function RfmSegmentTable({ segments, currency, chosen, linkTo }: Props) {
  const rows = rfmSegmentOrder.map((segment) => segments.find((s) => s.segment === segment)).filter((s) => s != null);
  const totalRevenue = rows.reduce((sum, s) => sum + s.revenueMinor, 0);
  const perMember = (value: number, s: SegmentSummary) => (s.members > 0 ? value / s.members : null);
  return (
    <Card title="Members per segment" wide testId="rfm-segments">
      <DataTable<SegmentSummary>
        label="Members, orders and revenue per RFM segment"
        rows={rows}
        rowKey={(s) => s.segment}
        rowTestId="rfm-segment-row"
        rowClassName={(s) => (s.segment === chosen ? 'is-selected' : s.members === 0 ? 'is-empty' : undefined)}
        columns={[
          {
            header: 'Segment',
            cell: (s) => (
              <Link
                to={linkTo(s.segment)}
                title={rfmSegmentDescriptions[s.segment]}
                aria-current={s.segment === chosen ? 'true' : undefined}
                data-testid={`rfm-segment-${s.segment}`}
              >
                {rfmSegmentLabels[s.segment]}
              </Link>
            ),
          },
          { header: 'Members', numeric: true, cell: (s) => <span data-testid={`rfm-members-${s.segment}`}>{formatInteger(s.members)}</span> },
          { header: 'Share', numeric: true, cell: (s) => <span data-testid={`rfm-share-${s.segment}`}>{formatPercent(s.share, shareDigits)}</span> },
          { header: 'Orders', numeric: true, cell: (s) => formatInteger(s.orders) },
          {
            header: 'Orders per member',
            numeric: true,
            cell: (s) => <span data-testid={`rfm-frequency-${s.segment}`}>{formatDecimal(perMember(s.orders, s), ordersPerMemberDigits)}</span>,
          },
          { header: 'Revenue', numeric: true, cell: (s) => <span data-testid={`rfm-revenue-${s.segment}`}>{formatMoney(s.revenueMinor, currency)}</span> },
          { header: 'Revenue per member', numeric: true, cell: (s) => formatMoney(roundOrNull(perMember(s.revenueMinor, s)), currency) },
          {
            header: 'Share of revenue',
            numeric: true,
            cell: (s) => (
              <span data-testid={`rfm-revenue-share-${s.segment}`}>{totalRevenue > 0 ? formatPercent(s.revenueMinor / totalRevenue, shareDigits) : dash}</span>
            ),
          },
        ]}
      />
      <p className="muted small">Revenue is order totals net of returns, up to the as-of day; frequency and spend per member are averages.</p>
    </Card>
  );
}

// Money is shown in whole minor units.
function roundOrNull(value: number | null): number | null {
  return value == null ? null : Math.round(value);
}
