import { useState } from 'react';
import { Link } from 'react-router';
import { useCurrentAdmin } from '../auth/RequireAuth';
import { FeedbackInboxDocument, type FeedbackInboxQuery, type FeedbackKind, type NpsCategory } from '../gql/graphql';
import { dash, formatDateTime, humanize, shortId } from '../shared/format';
import { can } from '../shared/permissions';
import { useMorePages } from '../shared/use-more-pages';
import { Badge, DataTable, PageHeader, QueryState, type Tone } from '../shared/ui';

type Answer = FeedbackInboxQuery['feedbackInbox']['edges'][number]['node'];

const categoryTones: Record<NpsCategory, Tone> = { PROMOTER: 'good', PASSIVE: 'neutral', DETRACTOR: 'bad' };

/** Every member's NPS and CSAT answers, newest first: detractors and comments to follow up. */
export function FeedbackInboxPage() {
  const admin = useCurrentAdmin();
  const withPii = can(admin, 'members:pii');
  const [kind, setKind] = useState<FeedbackKind | ''>('');
  const [category, setCategory] = useState<NpsCategory | ''>('');
  const [withComment, setWithComment] = useState(false);
  const pages = useMorePages(
    FeedbackInboxDocument,
    { kind: kind || null, npsCategory: category || null, withComment, first: 25, after: null, withPii },
    (d) => d.feedbackInbox,
  );
  return (
    <section className="page" aria-label="Feedback inbox">
      <PageHeader
        title="Feedback inbox"
        summary={withPii ? 'Answers as members gave them, with their comments.' : 'Answers as members gave them; comments need a role that may read personal data.'}
        actions={
          <div className="filters" data-testid="feedback-filters">
            <label>
              <span className="sr-only">Kind</span>
              <select value={kind} onChange={(e) => setKind(e.target.value as FeedbackKind | '')} aria-label="Kind">
                <option value="">NPS and CSAT</option>
                <option value="NPS">NPS</option>
                <option value="CSAT">CSAT</option>
              </select>
            </label>
            <label>
              <span className="sr-only">NPS band</span>
              <select value={category} onChange={(e) => setCategory(e.target.value as NpsCategory | '')} disabled={kind === 'CSAT'} aria-label="NPS band">
                <option value="">Every score</option>
                <option value="DETRACTOR">Detractors (0–6)</option>
                <option value="PASSIVE">Passives (7–8)</option>
                <option value="PROMOTER">Promoters (9–10)</option>
              </select>
            </label>
            <label className="checkbox">
              <input type="checkbox" checked={withComment} onChange={(e) => setWithComment(e.target.checked)} />
              With a comment
            </label>
          </div>
        }
      />
      <QueryState
        fetching={pages.fetching}
        error={pages.error}
        hasData={Boolean(pages.nodes)}
        isEmpty={pages.nodes?.length === 0}
        emptyText="No answers match"
        retry={pages.retry}
        testId="feedback-inbox"
      >
        <DataTable<Answer>
          label="Feedback"
          rows={pages.nodes ?? []}
          rowKey={(f) => f.id}
          rowTestId="inbox-row"
          columns={[
            { header: 'Given', cell: (f) => formatDateTime(f.givenAt) },
            {
              header: 'Member',
              cell: (f) => (
                <Link to={`/members/${f.memberId}`} className="mono">
                  {shortId(f.memberId)}
                </Link>
              ),
            },
            {
              header: 'Answer',
              cell: (f) => (
                <span data-testid="inbox-answer">
                  {f.kind === 'NPS' ? `NPS ${f.score}/10` : `CSAT ${f.score}/5`}
                  {f.npsCategory && (
                    <>
                      {' '}
                      <Badge tone={categoryTones[f.npsCategory]}>{humanize(f.npsCategory)}</Badge>
                    </>
                  )}
                </span>
              ),
            },
            { header: 'About', cell: (f) => (f.orderId ? 'An order' : f.storeCode ? `Store ${f.storeCode}` : humanize(f.channelKind)) },
            ...(withPii ? [{ header: 'Comment', cell: (f: Answer) => <span data-testid="inbox-comment">{f.comment ?? dash}</span> }] : []),
          ]}
        />
        {pages.hasMore && (
          <div className="list-page-footer">
            <button type="button" className="secondary" disabled={pages.isLoadingMore} onClick={pages.loadMore} data-testid="feedback-more">
              {pages.isLoadingMore ? 'Loading…' : 'Load more'}
            </button>
          </div>
        )}
      </QueryState>
    </section>
  );
}
