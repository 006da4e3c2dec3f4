import { formatDate, formatInteger, formatMoney, humanize } from '../../shared/format';
import { Card } from '../../shared/ui';
import type { Member } from './types';

export function TierCard({ member: m }: { member: Member }) {
  // Erasure closed the points account: no progress, retention or benefits lie ahead (tier changes stay in the timeline).
  if (m.status === 'ERASED') {
    return (
      <Card title="Tier" testId="member-tier">
        <p className="big" data-testid="tier-name">
          Closed
        </p>
        <p className="muted" data-testid="tier-closed">
          Points account closed at erasure
        </p>
      </Card>
    );
  }
  const t = m.tierProgress;
  const unit = t.metric === 'SPEND_MINOR' ? 'spend' : 'points';
  const format = (value: number) => (t.metric === 'SPEND_MINOR' ? formatMoney(value, 'GBP') : formatInteger(value));
  const target = t.nextTier?.threshold;
  return (
    <Card title="Tier" testId="member-tier">
      <p className="big" data-testid="tier-name">
        {t.tier?.name ?? 'No tier'}
      </p>
      {t.nextTier && target ? (
        <>
          <progress max={target} value={Math.min(t.current, target)} aria-label={`Progress to ${t.nextTier.name}`} />
          <p className="muted" data-testid="tier-progress">
            {format(t.missing ?? 0)} more {unit} to {t.nextTier.name} ({format(t.current)} of {format(target)} in the last{' '}
            {t.windowDays} days)
          </p>
        </>
      ) : (
        <p className="muted">{t.tier ? 'Highest tier reached' : 'No tiers are set up'}</p>
      )}
      {t.retainUntil && <p className="muted small">Kept at least until {formatDate(t.retainUntil)}</p>}
      <p className="muted small">
        Earns {m.benefits.earnMultiplierPercent}% of base points
        {m.benefits.flags.length > 0 && ` · ${m.benefits.flags.map(humanize).join(', ')}`}
      </p>
    </Card>
  );
}
