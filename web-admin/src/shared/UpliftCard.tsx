import { Chart } from './Chart';
import { Badge, Card } from './ui';

/** What the card draws of an UpliftEstimate: treated minus holdout and its 95% interval. */
export interface Uplift {
  difference: number;
  low: number;
  high: number;
  significant: boolean;
}

/**
 * One difference with its 95% interval as an error bar around the estimate, next to the zero line (a campaign's and a
 * challenge's results). `emptyText` says why there is no interval.
 */
export function UpliftCard({
  title,
  estimate: e,
  format,
  testId,
  emptyText = 'Not enough members in each group (or no spread) to estimate this yet',
}: {
  title: string;
  estimate: Uplift | null;
  format(v: number): string;
  testId: string;
  emptyText?: string;
}) {
  const color = e?.significant ? (e.difference > 0 ? '#12b76a' : '#d92d20') : '#667085';
  return (
    <Card title={title} testId={testId}>
      {!e ? (
        <p className="empty" data-testid={`${testId}-empty`}>
          {emptyText}
        </p>
      ) : (
        <>
          <p data-testid={`${testId}-text`}>
            <strong>{format(e.difference)}</strong> <span className="muted">95% CI {format(e.low)} to {format(e.high)}</span>{' '}
            <Badge tone={e.significant ? 'good' : 'neutral'}>{e.significant ? 'excludes 0' : 'includes 0'}</Badge>
          </p>
          <Chart
            label={`${title}: ${format(e.difference)}, 95% confidence interval ${format(e.low)} to ${format(e.high)}`}
            height={110}
            testId={`${testId}-chart`}
            option={{
              grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
              tooltip: { show: false },
              xAxis: {
                type: 'value',
                min: Math.min(0, e.low) - (e.high - e.low) * 0.15 - 1e-9,
                max: Math.max(0, e.high) + (e.high - e.low) * 0.15 + 1e-9,
                axisLabel: { formatter: (v: number) => format(v), hideOverlap: true, showMinLabel: false, showMaxLabel: false },
              },
              yAxis: { type: 'category', data: ['Treated − holdout'], axisLabel: { show: false }, axisTick: { show: false } },
              series: [
                {
                  type: 'custom',
                  name: '95% interval',
                  data: [[e.low, e.high, 0]],
                  encode: { x: [0, 1], y: 2 },
                  renderItem: (_: unknown, api: { value(i: number): number; coord(p: number[]): number[]; size(p: number[]): number[] }) => {
                    const low = api.coord([api.value(0), 0]);
                    const high = api.coord([api.value(1), 0]);
                    const cap = api.size([0, 1])[1] * 0.25;
                    const style = { stroke: color, lineWidth: 2 };
                    return {
                      type: 'group',
                      children: [
                        { type: 'line', shape: { x1: low[0], y1: low[1], x2: high[0], y2: high[1] }, style },
                        { type: 'line', shape: { x1: low[0], y1: low[1] - cap, x2: low[0], y2: low[1] + cap }, style },
                        { type: 'line', shape: { x1: high[0], y1: high[1] - cap, x2: high[0], y2: high[1] + cap }, style },
                      ],
                    };
                  },
                },
                {
                  type: 'scatter',
                  name: 'Estimate',
                  data: [[e.difference, 0]],
                  symbolSize: 12,
                  itemStyle: { color },
                  markLine: { symbol: 'none', silent: true, label: { show: false }, lineStyle: { color: '#98a2b3', type: 'dashed' }, data: [{ xAxis: 0 }] },
                },
              ],
            }}
          />
        </>
      )}
    </Card>
  );
}
