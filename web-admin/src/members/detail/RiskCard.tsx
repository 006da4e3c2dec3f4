import { rfmSegmentLabels } from '../../insights/rfm-segments';
import { formatDate, formatDecimal, formatInteger, formatProbability, humanize } from '../../shared/format';
import { Badge, Card, type Tone } from '../../shared/ui';
import { DriversChart } from './DriversChart';
import type { Member } from './types';

const bandTones: Record<string, Tone> = { LOW: 'good', MEDIUM: 'warn', HIGH: 'bad' };

/** The member's RFM segment (their orders so far) and churn risk; an erased member's orders stay, but no risk is predicted. */
export function RiskCard({ member: m }: { member: Member }) {
  const isErased = m.status === 'ERASED';
  const risk = m.churnRisk;
  return (
    <Card title={isErased ? 'RFM' : 'RFM and churn risk'} testId="member-risk">
      {m.rfm ? (
        <p data-testid="member-rfm">
          <Badge tone="info">{rfmSegmentLabels[m.rfm.segment]}</Badge> RFM {m.rfm.score} · {formatInteger(m.rfm.orders)} {m.rfm.orders === 1 ? 'order' : 'orders'} · last{' '}
          {m.rfm.recencyDays === 0 ? 'today' : `${formatInteger(m.rfm.recencyDays)} ${m.rfm.recencyDays === 1 ? 'day' : 'days'} ago`}
        </p>
      ) : (
        <p className="muted" data-testid="member-rfm">
          No RFM segment: no orders yet
        </p>
      )}
      {isErased ? null : risk ? (
        <>
          <p data-testid="member-churn">
            <Badge tone={bandTones[risk.band]}>{humanize(risk.band)} risk</Badge> {formatProbability(risk.score)} chance of no purchase
            in {risk.horizonDays} days <span className="muted small">(model {risk.modelVersionId.slice(0, 8)})</span>
          </p>
          {risk.previousScore != null && <RiskChange score={risk.score} previous={risk.previousScore} since={risk.previousScoredAt ?? null} />}
          {risk.drivers.length > 0 && (
            <DriversChart
              label="What drives this member's churn score: positive raises the risk"
              seriesName="Contribution (log-odds)"
              rows={risk.drivers.map((d) => ({ label: `${d.label} = ${formatDecimal(d.value)}`, contribution: d.contribution }))}
              positiveIsGood={false}
            />
          )}
        </>
      ) : (
        <p className="muted" data-testid="member-churn">
          Not scored by the active churn model
        </p>
      )}
    </Card>
  );
}

/** How the score moved since the member's score of 4+ weeks ago, in percentage points: what "rising risk" rules read. */
function RiskChange({ score, previous, since }: { score: number; previous: number; since: string | null }) {
  // Scores are stored as float4: a difference under half a hundredth of a point is no change.
  const points = Math.round((score - previous) * 10_000) / 100;
  const when = since ? ` since ${formatDate(since)}` : '';
  const tone: Tone = points > 0 ? 'bad' : points < 0 ? 'good' : 'neutral';
  return (
    <p data-testid="member-churn-change">
      <Badge tone={tone}>{points > 0 ? 'Rising' : points < 0 ? 'Falling' : 'Unchanged'}</Badge>{' '}
      {points === 0 ? `no change${when}` : `by ${formatDecimal(Math.abs(points))} percentage points${when}`} (was {formatProbability(previous)})
    </p>
  );
}
