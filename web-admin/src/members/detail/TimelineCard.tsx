import { useState } from 'react';
import { Link } from 'react-router';
import { useQuery } from 'urql';
import { MemberTimelineDocument, type MemberTimelineQuery } from '../../gql/graphql';
import { formatDateTime, formatDelta, formatInteger, formatMoney, humanize } from '../../shared/format';
import { Badge, Card, QueryState, type Tone } from '../../shared/ui';
import { channelLabels } from '../member-format';
import { describeOffer } from '../../campaigns/campaign-format';

type TimelineEntry = MemberTimelineQuery['member']['timeline']['edges'][number]['node'];

const timelinePage = 15;
const maxTimelineEntries = 150;
const timelineTones: Record<string, Tone> = {
  ORDER: 'info',
  LEDGER: 'neutral',
  REDEMPTION: 'warn',
  TIER_CHANGE: 'good',
  FEEDBACK: 'info',
  CAMPAIGN_CONTACT: 'good',
  MESSAGE: 'neutral',
};

/** What happened to the member, newest first: one line per order, ledger row, redemption, tier change or answer. */
export function TimelineCard({ memberId }: { memberId: string }) {
  const [first, setFirst] = useState(timelinePage);
  const [{ data, fetching, error }, refetch] = useQuery({ query: MemberTimelineDocument, variables: { id: memberId, first } });
  const entries = data?.member.timeline.edges ?? [];
  return (
    <Card title="Timeline" wide testId="member-timeline">
      <QueryState
        fetching={fetching && !data}
        error={error}
        hasData={Boolean(data)}
        isEmpty={entries.length === 0}
        emptyText="Nothing has happened yet"
        refetch={refetch}
        testId="timeline"
      >
        <ol className="timeline">
          {entries.map(({ cursor, node: entry }) => (
            <li key={cursor} data-testid="timeline-entry">
              <time dateTime={entry.occurredAt} className="muted small">
                {formatDateTime(entry.occurredAt)}
              </time>
              <Badge tone={timelineTones[entry.type]}>{humanize(entry.type)}</Badge>
              <span>
                {describeTimelineEntry(entry)}
                {/* Which campaign: its page names it and holds its results. */}
                {(entry.node.__typename === 'CampaignMember' || entry.node.__typename === 'CampaignMessage') && (
                  <>
                    {' · '}
                    <Link to={`/campaigns/${entry.node.campaignId}`} data-testid="timeline-campaign-link">
                      Open the campaign
                    </Link>
                  </>
                )}
              </span>
            </li>
          ))}
        </ol>
        {data?.member.timeline.pageInfo.hasNextPage && first < maxTimelineEntries && (
          <div className="list-page-footer">
            <button
              type="button"
              className="secondary"
              disabled={fetching}
              onClick={() => setFirst((n) => Math.min(n + timelinePage, maxTimelineEntries))}
              data-testid="timeline-load-more"
            >
              Load more
            </button>
          </div>
        )}
      </QueryState>
    </Card>
  );
}

function describeTimelineEntry(entry: TimelineEntry): string {
  const n = entry.node;
  switch (n.__typename) {
    case 'Order':
      return `Order ${n.externalOrderId} for ${formatMoney(n.totalMinor, n.currency)} via ${channelLabels[n.channelKind]}, ${formatDelta(n.pointsEarned)} points`;
    case 'LedgerEntry': {
      // A row may move both (a release, an erasure forfeit): name every change, or the line reads as the whole of it.
      const changes = [
        n.availableDelta !== 0 && `${formatDelta(n.availableDelta)} available`,
        n.pendingDelta !== 0 && `${formatDelta(n.pendingDelta)} pending`,
      ].filter(Boolean);
      const delta = changes.length > 0 ? changes.join(', ') : 'no change to available or pending points';
      return `${humanize(n.reason)}: ${delta}${n.note ? ` (${n.note})` : ''}`;
    }
    case 'Redemption':
      return `Redeemed ${n.reward.name} for ${formatInteger(n.points)} points (${humanize(n.status).toLowerCase()})`;
    case 'TierChange':
      return `${n.fromTier ? `${n.fromTier} → ` : ''}${n.toTier} (${humanize(n.changeReason).toLowerCase()})`;
    case 'Feedback':
      return `${n.kind} ${n.score}${n.kind === 'NPS' ? '/10' : '/5'}${n.npsCategory ? `, ${humanize(n.npsCategory).toLowerCase()}` : ''}`;
    case 'CampaignMember': {
      if (n.group === 'HOLDOUT') return 'Held out of a campaign (control group)';
      const offer = describeOffer(n.offer);
      return `Reached by a campaign${n.bonusPoints ? `, ${formatDelta(n.bonusPoints)} bonus points so far` : ''}${offer ? `, offered ${offer}` : ''}`;
    }
    case 'CampaignMessage':
      return `${humanize(n.medium)} from a campaign${n.subject ? `: “${n.subject}”` : ''} (${humanize(n.messageStatus).toLowerCase()})`;
    default:
      // Entries a plugin adds describe themselves.
      return entry.summary ?? humanize(entry.type);
  }
}
