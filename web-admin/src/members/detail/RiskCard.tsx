import { useMemo } from 'react';
import { Chart } from '../../shared/Chart';
import { formatDecimal, formatInteger, formatPercent, humanize } from '../../shared/format';
import { Badge, Card, type Tone } from '../../shared/ui';
import type { Member } from './types';

const bandTones: Record<string, Tone> = { LOW: 'good', MEDIUM: 'warn', HIGH: 'bad' };

export function RiskCard({ member: m }: { member: Member }) {
  const risk = m.churnRisk;
  const drivers = useMemo(() => [...(risk?.drivers ?? [])].reverse(), [risk]);
  return (
    <Card title="RFM and churn risk" testId="member-risk">
      {m.rfm ? (
        <p data-testid="member-rfm">
          <Badge tone="info">{humanize(m.rfm.segment)}</Badge> RFM {m.rfm.score} · {formatInteger(m.rfm.orders)} {m.rfm.orders === 1 ? 'order' : 'orders'} · last{' '}
          {formatInteger(m.rfm.recencyDays)} days ago
        </p>
      ) : (
        <p className="muted" data-testid="member-rfm">
          No RFM segment: no orders yet
        </p>
      )}
      {risk ? (
        <>
          <p data-testid="member-churn">
            <Badge tone={bandTones[risk.band]}>{humanize(risk.band)} risk</Badge> {formatPercent(risk.score)} chance of no purchase
            in {risk.horizonDays} days <span className="muted small">(model {risk.modelVersionId.slice(0, 8)})</span>
          </p>
          {drivers.length > 0 && (
            <Chart
              label="What drives this member's churn score: positive raises the risk"
              height={Math.max(120, drivers.length * 28 + 30)}
              option={{
                tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
                grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
                xAxis: { type: 'value' },
                yAxis: { type: 'category', data: drivers.map((d) => `${d.label} = ${formatDecimal(d.value)}`) },
                series: [
                  {
                    type: 'bar',
                    name: 'Contribution (log-odds)',
                    data: drivers.map((d) => ({ value: d.contribution, itemStyle: { color: d.contribution > 0 ? '#d92d20' : '#12b76a' } })),
                  },
                ],
              }}
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
