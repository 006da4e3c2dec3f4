import { useMemo } from 'react';
import type { MemberDetailQuery } from '../../gql/graphql';
import { valueDriverFigure, valueDriverLabel } from '../../models/value-drivers';
import { Chart } from '../../shared/Chart';
import { formatDecimal, formatMoney, formatPercent, humanize } from '../../shared/format';
import { Badge, Card, type Tone } from '../../shared/ui';

type PredictedValue = NonNullable<MemberDetailQuery['member']['predictedValue']>;

const valueTones: Record<string, Tone> = { LOW: 'neutral', MEDIUM: 'info', HIGH: 'good' };

/** The active customer-value model's expected spend of the member, with what drives it, each driver named in words. */
export function PredictedValueCard({ value }: { value: PredictedValue | null }) {
  const drivers = useMemo(() => [...(value?.drivers ?? [])].reverse(), [value]);
  return (
    <Card title="Predicted value" testId="member-value">
      {value ? (
        <>
          <p data-testid="member-predicted-value">
            <Badge tone={valueTones[value.band]}>{humanize(value.band)} value</Badge>{' '}
            <strong>{formatMoney(value.amount, value.currency)}</strong> expected in the next {value.horizonDays} days ·{' '}
            {formatPercent(value.pReturn)} chance of buying again{' '}
            <span className="muted small">(model {value.modelVersionId.slice(0, 8)})</span>
          </p>
          {drivers.length > 0 && (
            <>
              <ul className="small" data-testid="member-value-drivers" aria-label="What drives the predicted value">
                {value.drivers.map((d) => (
                  <li key={d.feature}>
                    {d.contribution >= 0 ? '▲' : '▼'} {valueDriverLabel(d.feature)}: {formatDecimal(valueDriverFigure(d.feature, d.value))}
                  </li>
                ))}
              </ul>
              <Chart
                label="What drives this member's predicted value: positive raises it"
                height={Math.max(120, drivers.length * 28 + 30)}
                option={{
                  tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
                  grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
                  xAxis: { type: 'value' },
                  yAxis: { type: 'category', data: drivers.map((d) => valueDriverLabel(d.feature)) },
                  series: [
                    {
                      type: 'bar',
                      name: 'Contribution (log of expected spend)',
                      data: drivers.map((d) => ({ value: d.contribution, itemStyle: { color: d.contribution > 0 ? '#12b76a' : '#d92d20' } })),
                    },
                  ],
                }}
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
