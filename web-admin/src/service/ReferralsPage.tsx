import { useState } from 'react';
import { Link } from 'react-router';
import { ReferralsDocument, type ReferralStatus, type ReferralsQuery } from '../gql/graphql';
import { dash, formatDateTime, formatInteger, humanize, shortId } from '../shared/format';
import { useMorePages } from '../shared/use-more-pages';
import { Badge, DataTable, PageHeader, QueryState, type Tone } from '../shared/ui';

type Referral = ReferralsQuery['referrals']['edges'][number]['node'];

const statuses: ReferralStatus[] = ['PENDING', 'CREDITED', 'VOID'];
const tones: Record<ReferralStatus, Tone> = { PENDING: 'info', CREDITED: 'good', VOID: 'neutral' };

const memberLink = (id: string, testId: string) => (
  <Link to={`/members/${id}`} className="mono" data-testid={testId}>
    {shortId(id)}
  </Link>
);

/** Who brought in whom, and whether the bonus was credited (at the first qualifying order) or voided, and why. */
export function ReferralsPage() {
  const [status, setStatus] = useState<ReferralStatus | ''>('');
  const pages = useMorePages(ReferralsDocument, { status: status || null, first: 25, after: null }, (d) => d.referrals);
  return (
    <section className="page" aria-label="Referrals">
      <PageHeader
        title="Referrals"
        summary="A referred member's first qualifying order credits both members; a return of it, or a refusal, voids the referral."
        actions={
          <label>
            <span className="sr-only">Status</span>
            <select value={status} onChange={(e) => setStatus(e.target.value as ReferralStatus | '')} data-testid="referral-status-filter">
              <option value="">All statuses</option>
              {statuses.map((s) => (
                <option key={s} value={s}>
                  {humanize(s)}
                </option>
              ))}
            </select>
          </label>
        }
      />
      <QueryState
        fetching={pages.fetching}
        error={pages.error}
        hasData={Boolean(pages.nodes)}
        isEmpty={pages.nodes?.length === 0}
        emptyText={status ? `No ${humanize(status).toLowerCase()} referrals` : 'No referrals yet'}
        retry={pages.retry}
        testId="referrals"
      >
        <DataTable<Referral>
          label="Referrals"
          rows={pages.nodes ?? []}
          rowKey={(r) => r.id}
          rowTestId="referral-row"
          columns={[
            { header: 'Referred on', cell: (r) => formatDateTime(r.createdAt) },
            { header: 'Referrer', cell: (r) => memberLink(r.referrerId, 'referral-referrer') },
            { header: 'Code', cell: (r) => <span className="mono">{r.code}</span> },
            { header: 'Referred member', cell: (r) => memberLink(r.referredId, 'referral-referred') },
            {
              header: 'Status',
              cell: (r) => (
                <span data-testid="referral-status">
                  <Badge tone={tones[r.status]}>{humanize(r.status)}</Badge>
                  {r.voidReason && <span className="muted small"> {humanize(r.voidReason)}</span>}
                </span>
              ),
            },
            {
              header: 'Bonus',
              numeric: true,
              cell: (r) => `${formatInteger(r.referrerPoints)} + ${formatInteger(r.referredPoints)}`,
            },
            { header: 'Credited or voided', cell: (r) => formatDateTime(r.creditedAt ?? r.voidedAt) || dash },
          ]}
        />
        {pages.hasMore && (
          <div className="list-page-footer">
            <button type="button" className="secondary" disabled={pages.isLoadingMore} onClick={pages.loadMore} data-testid="referrals-more">
              {pages.isLoadingMore ? 'Loading…' : 'Load more'}
            </button>
          </div>
        )}
      </QueryState>
    </section>
  );
}
