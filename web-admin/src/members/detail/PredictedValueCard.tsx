import type { MemberDetailQuery } from '../../gql/graphql';
import { valueDriverFigure, valueDriverLabel } from '../../models/value-drivers';
import { formatDecimal, formatMoney, formatProbability, humanize } from '../../shared/format';
import { Badge, Card, type Tone } from '../../shared/ui';
import { DriversChart } from './DriversChart';

type PredictedValue = NonNullable<MemberDetailQuery['member']['predictedValue']>;

const valueTones: Record<string, Tone> = { LOW: 'neutral', MEDIUM: 'info', HIGH: 'good' };

/** The active customer-value model's expected spend of the member, with what drives it, each driver named in words. */
export function PredictedValueCard({ value }: { value: PredictedValue | null }) {
  return (
    <Card title="Predicted value" testId="member-value">
      {value ? (
        <>
          <p data-testid="member-predicted-value">
            <Badge tone={valueTones[value.band]}>{humanize(value.band)} value</Badge>{' '}
            <strong>{formatMoney(value.amount, value.currency)}</strong> expected in the next {value.horizonDays} days ·{' '}
            {formatProbability(value.pReturn)} chance of buying again{' '}
            <span className="muted small">(model {value.modelVersionId.slice(0, 8)})</span>
          </p>
          {value.drivers.length > 0 && (
            <>
              <ul className="small" data-testid="member-value-drivers" aria-label="What drives the predicted value">
                {value.drivers.map((d) => (
                  <li key={d.feature}>
                    {d.contribution >= 0 ? '▲' : '▼'} {valueDriverLabel(d.feature)}: {formatDecimal(valueDriverFigure(d.feature, d.value))}
                  </li>
                ))}
              </ul>
              <DriversChart
                label="What drives this member's predicted value: positive raises it"
                seriesName="Contribution (log of expected spend)"
                rows={value.drivers.map((d) => ({ label: valueDriverLabel(d.feature), contribution: d.contribution }))}
                positiveIsGood
              />
            </>
          )}
        </>
      ) : (
        <p className="muted" data-testid="member-predicted-value">
          Not scored by the active customer-value model
        </p>
      )}
    </Card>
  );
}
