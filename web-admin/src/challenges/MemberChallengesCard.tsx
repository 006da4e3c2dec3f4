import { useQuery } from 'urql';
import { MemberChallengesDocument, type MemberChallengesQuery } from '../gql/graphql';
import { formatDate, formatInteger, formatPercent } from '../shared/format';
import { Badge, Card, QueryState } from '../shared/ui';

type Row = MemberChallengesQuery['member']['challenges'][number];

/**
 * Member 360: the member's challenges with a progress bar each, and the badges they hold. Erasure deleted an erased
 * member's progress and badges (the challenges plugin keeps nothing of theirs), so the card says so rather than "none yet".
 */
export function MemberChallengesCard({ memberId, isErased }: { memberId: string; isErased: boolean }) {
  const [{ data, fetching, error }, refetch] = useQuery({ query: MemberChallengesDocument, variables: { id: memberId }, pause: isErased });
  const rows = data?.member.challenges ?? [];
  const badges = data?.member.badges ?? [];
  if (isErased) {
    return (
      <Card title="Challenges and badges" wide testId="member-challenges">
        <p className="muted" data-testid="challenges-closed">
          Closed at erasure: the member's challenge progress and badges were deleted
        </p>
      </Card>
    );
  }
  return (
    <Card title="Challenges and badges" wide testId="member-challenges">
      <QueryState
        fetching={fetching}
        error={error}
        hasData={Boolean(data)}
        isEmpty={rows.length === 0 && badges.length === 0}
        emptyText="No challenges joined and no badges yet"
        refetch={refetch}
        testId="challenges"
      >
        <ul className="plain">
          {rows.map((r) => (
            <ChallengeProgress key={r.id} row={r} />
          ))}
        </ul>
        {badges.length > 0 && (
          <p data-testid="member-badges">
            {badges.map((b) => (
              <span key={b.id} title={`Earned ${formatDate(b.awardedAt)}`}>
                <Badge tone="info">{b.name}</Badge>{' '}
              </span>
            ))}
          </p>
        )}
      </QueryState>
    </Card>
  );
}

function ChallengeProgress({ row: r }: { row: Row }) {
  const label = `${r.challenge.name}: ${formatInteger(r.progress)} of ${formatInteger(r.goal)}`;
  return (
    <li data-testid="member-challenge">
      <span>
        {r.challenge.name}{' '}
        <span className="muted small">
          {formatInteger(r.progress)} of {formatInteger(r.goal)} ({formatPercent(r.percent / 100)})
        </span>{' '}
        {r.completedAt ? (
          <Badge tone={r.rewardStatus === 'REWARD_UNAVAILABLE' ? 'warn' : 'good'}>Completed {formatDate(r.completedAt)}</Badge>
        ) : (
          <span className="muted small">until {formatDate(r.challenge.endsAt)}</span>
        )}
      </span>
      <progress max={r.goal} value={Math.min(r.progress, r.goal)} aria-label={label} />
    </li>
  );
}
