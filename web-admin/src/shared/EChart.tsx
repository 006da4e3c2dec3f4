import EChartsReactCore from 'echarts-for-react/esm/core';
import { BarChart, CustomChart, HeatmapChart, LineChart, ScatterChart } from 'echarts/charts';
import {
  AriaComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import type { EChartsCoreOption } from 'echarts/core';

echarts.use([
  BarChart,
  LineChart,
  HeatmapChart,
  ScatterChart,
  CustomChart,
  GridComponent,
  MarkLineComponent,
  TooltipComponent,
  LegendComponent,
  VisualMapComponent,
  AriaComponent,
  SVGRenderer,
]);

/** The palette every chart shares (matches --accent and the status colours in styles.css). */
const chartColors = ['#2454d6', '#12b76a', '#f79009', '#7a5af8', '#ee46bc', '#06aed4', '#667085'];

export interface ChartProps {
  /** What the chart shows, for screen readers (ECharts' aria module adds a generated description). */
  label: string;
  option: EChartsCoreOption;
  height?: number;
  testId?: string;
}

/** Loaded on demand through Chart.tsx, so ECharts stays out of the first bundle. */
export default function EChart({ label, option, height = 260, testId }: ChartProps) {
  return (
    <div className="chart" role="img" aria-label={label} data-testid={testId}>
      <EChartsReactCore
        echarts={echarts}
        option={{ color: chartColors, aria: { enabled: true }, animation: false, ...option }}
        notMerge
        style={{ height, width: '100%' }}
        opts={{ renderer: 'svg' }}
      />
    </div>
  );
}
