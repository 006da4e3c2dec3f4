import type { ChallengeQuery } from '../gql/graphql';
import { formatInteger, formatMoney, formatPercent } from '../shared/format';
import { Badge, Card, Stat } from '../shared/ui';
import { UpliftCard } from '../shared/UpliftCard';

type Challenge = ChallengeQuery['challenge'];

/** A challenge's results: participation, spend against the holdout with its 95% interval, and the verdict (as a campaign's). */
export function ChallengeResults({ challenge: c }: { challenge: Challenge }) {
  const r = c.results;
  const money = (minor: number | null) => formatMoney(minor == null ? null : Math.round(minor), r.currency);
  const signedMoney = (minor: number) => `${minor > 0 ? '+' : ''}${money(minor)}`;
  const uplift = r.spendPerMemberUplift;
  const rateInterval = r.completionRateInterval;
  // Where the interval includes zero, or there is none, the figure is no finding, and the hint says so.
  const incrementalHint =
    r.incrementalSpendPerMemberMinor == null
      ? 'Needs a holdout'
      : uplift
        ? `95% CI ${money(uplift.low)} to ${money(uplift.high)}${uplift.significant ? '' : ' (point estimate; the interval includes zero)'}`
        : 'Point estimate; no interval (see the verdict)';
  return (
    <>
      <Card title="Results" wide testId="challenge-results">
        <div className="stat-row">
          <Stat label="Joined" value={formatInteger(r.joined)} hint="A qualifying event in the window" testId="result-joined" />
          <Stat label="Completed" value={formatInteger(r.completed)} testId="result-completed" />
          <Stat
            label="Completion rate"
            value={formatPercent(r.completionRate)}
            hint={rateInterval && `95% CI ${formatPercent(rateInterval.low)} to ${formatPercent(rateInterval.high)}`}
            testId="result-rate"
          />
          <Stat label="Held out" value={formatInteger(r.holdoutMembers)} hint={`of ${formatInteger(r.audienceHoldoutMembers)} in the audience`} testId="result-holdout" />
        </div>
        {r.joined > 0 && <progress max={Math.max(1, r.joined)} value={r.completed} aria-label="Completed of joined" />}
        <div className="stat-row">
          <Stat label="Spend per member" value={money(r.spendPerMemberMinor)} hint={`${formatInteger(r.audienceMembers - r.audienceHoldoutMembers)} members`} testId="result-spend" />
          <Stat label="Holdout spend per member" value={money(r.holdoutSpendPerMemberMinor)} hint={`${formatInteger(r.audienceHoldoutMembers)} members`} testId="result-holdout-spend" />
          <Stat
            label="Incremental spend per member"
            value={money(r.incrementalSpendPerMemberMinor)}
            hint={incrementalHint}
            testId="result-incremental"
          />
        </div>
        {r.rewardsUnavailable > 0 && (
          <p className="notice small" data-testid="result-rewards-unavailable">
            {formatInteger(r.rewardsUnavailable)} completions could not be given their catalogue reward: grant a replacement by hand.
          </p>
        )}
      </Card>
      <Card title="Verdict" wide testId="challenge-verdict">
        <p>
          <Badge tone={r.significant ? 'good' : 'neutral'}>{r.significant ? 'Significant' : 'Not significant'}</Badge>{' '}
          <span data-testid="challenge-verdict-text">{r.verdict}</span>
        </p>
        <p className="muted small">95% confidence intervals, participants minus holdout; members of the audience who bought nothing count as 0.</p>
      </Card>
      <UpliftCard
        title="Incremental spend per member"
        testId="uplift-spend"
        estimate={uplift}
        format={signedMoney}
        emptyText={
          c.holdoutPercent === 0
            ? 'Needs a holdout'
            : r.audienceHoldoutMembers < 2
              ? `Needs at least 2 held-out members in the audience; it has ${formatInteger(r.audienceHoldoutMembers)}`
              : 'Not enough members in each group (or no spread) to estimate this yet'
        }
      />
    </>
  );
}
