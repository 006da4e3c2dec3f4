import { lazy, Suspense } from 'react';
import type { ChartProps } from './EChart';

const EChart = lazy(() => import('./EChart'));

/** An ECharts chart; ECharts itself is a separate chunk, fetched the first time a chart renders. */
export function Chart(props: ChartProps) {
  return (
    <Suspense
      fallback={
        <p className="muted chart-loading" role="status" style={{ height: props.height ?? 260 }}>
          Loading chart…
        </p>
      }
    >
      <EChart {...props} />
    </Suspense>
  );
}
