import { Link, useNavigate } from 'react-router';
import { useQuery } from 'urql';
import { useCurrentAdmin } from '../auth/RequireAuth';
import { TopProductsBySegmentDocument, type RfmSegment, type TopProductsBySegmentQuery } from '../gql/graphql';
import { formatDate, formatDecimal, formatInteger, formatMoney, formatPercent } from '../shared/format';
import { can } from '../shared/permissions';
import { Card, DataTable, QueryState, Stat } from '../shared/ui';
import { dayEndingAt, ordersPerMemberDigits, rfmSegmentDescriptions, rfmSegmentLabels, rfmSegmentOrder, shareDigits } from './rfm-segments';
import type { SegmentSummary } from './RfmSegmentTable';

type Product = TopProductsBySegmentQuery['analytics']['topProductsBySegment'][number]['products'][number];

const productLimit = 10;

interface Props {
  summary: SegmentSummary;
  /** The moment the figures are as of (the end of the chosen day). */
  asOf: string;
  isToday: boolean;
  currency: string | null;
  linkTo(segment: RfmSegment): string;
}

/** The chosen segment in words, its members' figures, a way to target them, and what they buy most. */
export function SegmentDetailCard({ summary, asOf, isToday, currency, linkTo }: Props) {
  const navigate = useNavigate();
  const { segment, members } = summary;
  const label = rfmSegmentLabels[segment];
  const day = formatDate(dayEndingAt(asOf));
  return (
    <Card
      title={label}
      testId="rfm-segment-detail"
      actions={
        <select aria-label="Segment" value={segment} onChange={(e) => navigate(linkTo(e.target.value as RfmSegment))} data-testid="rfm-segment-select">
          {rfmSegmentOrder.map((s) => (
            <option key={s} value={s}>
              {rfmSegmentLabels[s]}
            </option>
          ))}
        </select>
      }
    >
      <p className="muted" data-testid="rfm-segment-description">
        {rfmSegmentDescriptions[segment]}.
      </p>
      <div className="stat-row">
        <Stat label="Members" value={formatInteger(members)} hint={`${formatPercent(summary.share, shareDigits)} of those scored`} testId="rfm-detail-members" />
        <Stat label="Orders per member" value={formatDecimal(members > 0 ? summary.orders / members : null, ordersPerMemberDigits)} testId="rfm-detail-frequency" />
        <Stat
          label="Revenue per member"
          value={formatMoney(members > 0 ? Math.round(summary.revenueMinor / members) : null, currency)}
          testId="rfm-detail-monetary"
        />
      </div>
      {members > 0 && <SegmentLink segment={segment} label={label} isToday={isToday} day={day} />}
      <h3>Top products</h3>
      {members === 0 ? (
        <p className="empty" data-testid="rfm-products-empty">
          No member was in {label} at the end of {day}
        </p>
      ) : (
        <TopProducts segment={segment} asOf={asOf} currency={currency} day={day} />
      )}
    </Card>
  );
}

/** To the segment builder with this RFM segment as its rule, for admins who may preview segments. */
function SegmentLink({ segment, label, isToday, day }: { segment: RfmSegment; label: string; isToday: boolean; day: string }) {
  const admin = useCurrentAdmin();
  if (!can(admin, 'segments:read')) return null;
  return (
    <p className="small">
      <Link to={`/segments?rfmSegment=${segment}`} data-testid="rfm-segment-link">
        {can(admin, 'segments:manage') ? 'Create a segment of these members' : 'Preview these members as a segment'}
      </Link>
      {!isToday && (
        <span className="muted" data-testid="rfm-segment-link-note">
          {' '}
          (a segment finds the members in {label} when it is used, not at the end of {day})
        </span>
      )}
    </p>
  );
}

function TopProducts({ segment, asOf, currency, day }: { segment: RfmSegment; asOf: string; currency: string | null; day: string }) {
  const [{ data, fetching, error }, refetch] = useQuery({
    query: TopProductsBySegmentDocument,
    variables: { asOf, segment, limit: productLimit },
  });
  const products = data?.analytics.topProductsBySegment.find((p) => p.segment === segment)?.products ?? [];
  return (
    <QueryState
      fetching={fetching}
      error={error}
      hasData={Boolean(data)}
      isEmpty={products.length === 0}
      emptyText={`Its members' orders up to the end of ${day} have no product lines`}
      refetch={refetch}
      loadingText="Loading top products…"
      testId="rfm-products"
    >
      <DataTable<Product>
        label={`Best-selling products of ${rfmSegmentLabels[segment]} by revenue`}
        testId="rfm-products"
        rows={products}
        rowKey={(p) => p.sku}
        rowTestId="rfm-product-row"
        columns={[
          { header: '#', numeric: true, cell: (p) => p.rank },
          {
            header: 'Product',
            cell: (p) => (
              <>
                <span data-testid="rfm-product-name">{p.name}</span> <span className="mono small muted">{p.sku}</span>
              </>
            ),
          },
          { header: 'Units', numeric: true, cell: (p) => formatInteger(p.units) },
          { header: 'Buyers', numeric: true, cell: (p) => formatInteger(p.buyers) },
          { header: 'Revenue', numeric: true, cell: (p) => formatMoney(p.revenueMinor, currency) },
        ]}
      />
      <p className="muted small">Ranked by revenue net of returns; buyers are members of the segment who bought the product.</p>
    </QueryState>
  );
}
