import { Chart } from '../../shared/Chart';

const RED = '#d92d20';
const GREEN = '#12b76a';

/**
 * A model's top drivers for one member as horizontal bars, strongest at the top (`rows` come strongest first). What a
 * positive contribution means is the model's: more churn risk is bad (red), more predicted value good (green).
 */
export function DriversChart({
  label,
  seriesName,
  rows,
  positiveIsGood,
}: {
  label: string;
  seriesName: string;
  rows: readonly { label: string; contribution: number }[];
  positiveIsGood: boolean;
}) {
  const bars = [...rows].reverse();
  return (
    <Chart
      label={label}
      height={Math.max(120, bars.length * 28 + 30)}
      option={{
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
        grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
        xAxis: { type: 'value' },
        yAxis: { type: 'category', data: bars.map((b) => b.label) },
        series: [
          {
            type: 'bar',
            name: seriesName,
            data: bars.map((b) => ({ value: b.contribution, itemStyle: { color: b.contribution > 0 === positiveIsGood ? GREEN : RED } })),
          },
        ],
      }}
    />
  );
}
