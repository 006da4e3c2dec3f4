import { useEffect, useMemo, useRef, useState } from 'react';
import { useQuery } from 'urql';
import { Link } from 'react-router';
import { useCurrentAdmin } from '../auth/RequireAuth';
import {
  AnalyticsCohortsDocument,
  AnalyticsKpisDocument,
  ChurnDistributionDocument,
  ChurnTrainingDocument,
  FeedbackTrendDocument,
  ValueAtRiskDocument,
  type AnalyticsFilterInput,
  type TimeBucket,
  type AnalyticsKpisQuery,
  type ValueAtRiskQuery,
  type SalesChannelKind,
} from '../gql/graphql';
import { channelLabels } from '../members/member-format';
import { Chart } from '../shared/Chart';
import { formatDecimal, formatInteger, formatMoney, formatMoneyCompact, formatPercent } from '../shared/format';
import { can } from '../shared/permissions';
import { Card, DataTable, PageHeader, QueryState, Stat } from '../shared/ui';
import { segmentPresets } from '../segments/presets';
import { isChurnTraining, npsLine, npsTooFewNote, npsTooltip } from './dashboard-format';

const ranges = [
  { days: 7, label: 'Last 7 days' },
  { days: 30, label: 'Last 30 days' },
  { days: 90, label: 'Last 90 days' },
  { days: 365, label: 'Last 12 months' },
] as const;

const channels = Object.keys(channelLabels) as SalesChannelKind[];
const dayMs = 86_400_000;

/** [from, to) ending at the next UTC midnight, so today's orders count and the range is stable for the whole day. */
export function rangeFilter(days: number, channelKind: SalesChannelKind | null, now = Date.now()): AnalyticsFilterInput {
  const to = Math.ceil(now / dayMs) * dayMs;
  return {
    from: new Date(to - days * dayMs).toISOString(),
    to: new Date(to).toISOString(),
    ...(channelKind ? { channelKind } : {}),
  };
}

export function Dashboard() {
  const [days, setDays] = useState<number>(30);
  const [channel, setChannel] = useState<SalesChannelKind | ''>('');
  const input = useMemo(() => rangeFilter(days, channel || null), [days, channel]);

  const [kpis, refetchKpis] = useQuery({ query: AnalyticsKpisDocument, variables: { input } });
  const k = kpis.data?.analytics.kpis;

  return (
    <section className="page" aria-label="Dashboard">
      <PageHeader
        title="Dashboard"
        summary={k ? `${formatDay(k.from)} – ${formatDay(k.to, -1)}` : null}
        actions={
          <div className="filters" role="group" aria-label="Filters">
            <label>
              <span className="sr-only">Range</span>
              <select value={days} onChange={(e) => setDays(Number(e.target.value))} data-testid="dashboard-range">
                {ranges.map((r) => (
                  <option key={r.days} value={r.days}>
                    {r.label}
                  </option>
                ))}
              </select>
            </label>
            <label>
              <span className="sr-only">Channel</span>
              <select
                value={channel}
                onChange={(e) => setChannel(e.target.value as SalesChannelKind | '')}
                data-testid="dashboard-channel"
              >
                <option value="">All channels</option>
                {channels.map((c) => (
                  <option key={c} value={c}>
                    {channelLabels[c]}
                  </option>
                ))}
              </select>
            </label>
          </div>
        }
      />

      <QueryState
        fetching={kpis.fetching}
        error={kpis.error}
        hasData={Boolean(k)}
        refetch={refetchKpis}
        loadingText="Loading KPIs…"
        testId="kpis"
      >
        {k && <KpiTiles kpis={k} isChannelFiltered={Boolean(channel)} />}
        {k && (
          <div className="card-grid">
            <RevenueByChannel kpis={k} />
            <PointsFlow kpis={k} isChannelFiltered={Boolean(channel)} />
          </div>
        )}
      </QueryState>

      <div className="card-grid">
        <NpsTrend input={input} days={days} />
        <ChurnDistribution isChannelFiltered={Boolean(channel)} />
        <ValueAtRiskCard isChannelFiltered={Boolean(channel)} />
        <CohortRetention input={input} />
      </div>
    </section>
  );
}

type Kpis = AnalyticsKpisQuery['analytics']['kpis'];

function KpiTiles({ kpis: k, isChannelFiltered }: { kpis: Kpis; isChannelFiltered: boolean }) {
  const notSplit = isChannelFiltered ? 'Not split by channel' : undefined;
  return (
    <div className="stat-grid" data-testid="kpi-tiles">
      <Stat label="Active members" value={formatInteger(k.activeMembers)} hint="With an order in range" testId="kpi-active-members" />
      <Stat label="New members" value={formatInteger(k.newMembers)} hint="Enrolled in range" testId="kpi-new-members" />
      <Stat label="Orders" value={formatInteger(k.orders)} testId="kpi-orders" />
      <Stat label="Net revenue" value={formatMoney(k.netRevenueMinor, k.currency)} hint="After returns" testId="kpi-net-revenue" />
      <Stat label="Average order" value={formatMoney(k.averageOrderValueMinor, k.currency)} testId="kpi-aov" />
      <Stat label="Repeat purchase rate" value={formatPercent(k.repeatPurchaseRate)} testId="kpi-repeat-rate" />
      <Stat label="Points issued" value={formatInteger(k.pointsIssued)} hint={notSplit} testId="kpi-points-issued" />
      <Stat label="Points redeemed" value={formatInteger(k.pointsRedeemed)} hint={notSplit ?? `Redemption rate ${formatPercent(k.redemptionRate)}`} testId="kpi-points-redeemed" />
      <Stat
        label="Outstanding liability"
        value={formatMoney(k.liabilityMinor, k.currency)}
        hint={notSplit ?? `${formatInteger(k.liabilityPoints)} points owed`}
        testId="kpi-liability"
      />
    </div>
  );
}

function RevenueByChannel({ kpis: k }: { kpis: Kpis }) {
  const rows = k.byChannel;
  return (
    <Card title="Revenue by channel" testId="chart-revenue-by-channel">
      {rows.length === 0 ? (
        <p className="empty">No orders in this range</p>
      ) : (
        <Chart
          label={`Net revenue by channel in ${k.currency}`}
          option={{
            tooltip: { trigger: 'axis' },
            grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
            xAxis: { type: 'category', data: rows.map((r) => r.label), axisLabel: { interval: 0, width: 90, overflow: 'truncate' } },
            yAxis: { type: 'value', axisLabel: { formatter: (v: number) => formatMoney(v, k.currency) } },
            series: [
              {
                type: 'bar',
                name: 'Net revenue',
                data: rows.map((r) => r.netRevenueMinor),
                tooltip: { valueFormatter: (v: number) => formatMoney(v, k.currency) },
              },
            ],
          }}
        />
      )}
    </Card>
  );
}

function PointsFlow({ kpis: k, isChannelFiltered }: { kpis: Kpis; isChannelFiltered: boolean }) {
  const bars = [
    { name: 'Issued', value: k.pointsIssued },
    { name: 'Redeemed', value: k.pointsRedeemed },
    { name: 'Expired', value: k.pointsExpired },
    { name: 'Clawed back', value: k.pointsClawedBack },
  ];
  return (
    <Card title="Points issued, redeemed and expired" testId="chart-points">
      {isChannelFiltered ? (
        <p className="empty">Points are programme-wide: choose “All channels” to see them</p>
      ) : (
        <Chart
          label="Points issued, redeemed, expired and clawed back in range"
          option={{
            tooltip: { trigger: 'axis' },
            grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
            xAxis: { type: 'category', data: bars.map((b) => b.name), axisLabel: { interval: 0, width: 80, overflow: 'break', lineHeight: 14 } },
            yAxis: { type: 'value' },
            series: [
              {
                type: 'bar',
                name: 'Points',
                data: bars.map((b, i) => ({ value: b.value ?? 0, itemStyle: { color: ['#2454d6', '#12b76a', '#f79009', '#d92d20'][i] } })),
              },
            ],
          }}
        />
      )}
    </Card>
  );
}

const risingRisk = segmentPresets.find((p) => p.id === 'rising-risk')!;

/** Shown on the model cards while a channel is chosen: their figures are per member, across every channel. */
function AllChannelsNote({ isChannelFiltered, testId }: { isChannelFiltered: boolean; testId: string }) {
  return isChannelFiltered ? (
    <p className="muted small" data-testid={testId}>
      All channels: models score members, not channels
    </p>
  ) : null;
}

const trainingPollMs = 10_000;

function ChurnDistribution({ isChannelFiltered }: { isChannelFiltered: boolean }) {
  const admin = useCurrentAdmin();
  const [{ data, fetching, error }, refetch] = useQuery({ query: ChurnDistributionDocument, variables: { risingRule: risingRisk.rule } });
  const bands = data ? [
    { name: 'Low', value: data.low.totalCount, color: '#12b76a' },
    { name: 'Medium', value: data.medium.totalCount, color: '#f79009' },
    { name: 'High', value: data.high.totalCount, color: '#d92d20' },
  ] : [];
  const scored = bands.reduce((sum, b) => sum + b.value, 0);
  // Nobody scored yet: in the first minutes of a new install the first churn model is already training (the worker
  // queues it at start), which the card says rather than asking for one; it reads the scores once the job is done.
  const isWatching = Boolean(data) && scored === 0 && can(admin, 'models:read');
  const [jobs, refetchJobs] = useQuery({ query: ChurnTrainingDocument, pause: !isWatching, requestPolicy: 'network-only' });
  const isTraining = isWatching && (jobs.data?.modelJobs ?? []).some(isChurnTraining);
  useEffect(() => {
    if (!isTraining) return;
    const timer = setInterval(() => refetchJobs({ requestPolicy: 'network-only' }), trainingPollMs);
    return () => clearInterval(timer);
  }, [isTraining, refetchJobs]);
  const wasTraining = useRef(false);
  useEffect(() => {
    if (wasTraining.current && !isTraining) refetch({ requestPolicy: 'network-only' });
    wasTraining.current = isTraining;
  }, [isTraining, refetch]);
  return (
    <Card title="Churn risk" testId="chart-churn">
      <AllChannelsNote isChannelFiltered={isChannelFiltered} testId="churn-all-channels" />
      <QueryState
        fetching={fetching}
        error={error}
        hasData={Boolean(data)}
        isEmpty={scored === 0}
        emptyText={
          isTraining
            ? 'No member has a churn score yet: the first churn model is training, and its scores show here once it is done'
            : 'No member has a churn score yet: train and activate a churn model'
        }
        refetch={refetch}
        testId="churn"
      >
        <p className="muted small" data-testid="churn-counts">
          {bands.map((b) => `${b.name} ${formatInteger(b.value)}`).join(' · ')}
        </p>
        {data && (
          <p className="small" data-testid="churn-rising">
            {formatInteger(data.rising.count)} {data.rising.count === 1 ? "member's" : "members'"} risk rose 10 points or more over about a
            month · <Link to={`/segments?start=${risingRisk.id}`}>Open as a segment</Link>
          </p>
        )}
        <Chart
          label="Members per churn-risk band of the active churn model"
          height={200}
          option={{
            tooltip: { trigger: 'axis' },
            grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
            xAxis: { type: 'value' },
            yAxis: { type: 'category', data: bands.map((b) => b.name) },
            series: [{ type: 'bar', name: 'Members', data: bands.map((b) => ({ value: b.value, itemStyle: { color: b.color } })) }],
          }}
        />
      </QueryState>
    </Card>
  );
}

const churnBandLabels = { LOW: 'Low', MEDIUM: 'Medium', HIGH: 'High' } as const;
type ValueAtRiskBand = NonNullable<ValueAtRiskQuery['analytics']['valueAtRisk']>['bands'][number];

/** The active value model's predicted value weighed by the active churn model's probability, summed per churn band. */
function ValueAtRiskCard({ isChannelFiltered }: { isChannelFiltered: boolean }) {
  const [{ data, fetching, error }, refetch] = useQuery({ query: ValueAtRiskDocument });
  const v = data?.analytics.valueAtRisk;
  const bands = v?.bands ?? [];
  return (
    <Card title="Value at risk" testId="chart-value-at-risk">
      <AllChannelsNote isChannelFiltered={isChannelFiltered} testId="value-at-risk-all-channels" />
      <QueryState
        fetching={fetching}
        error={error}
        hasData={Boolean(data)}
        isEmpty={!v || bands.every((b) => b.members === 0)}
        emptyText="Needs an active customer-value model and an active churn model that both scored members"
        refetch={refetch}
        testId="value-at-risk"
      >
        {v && (
          <>
            <p className="muted small" data-testid="value-at-risk-total">
              {formatMoney(bands.reduce((sum, b) => sum + b.valueAtRiskMinor, 0), v.currency)} of{' '}
              {formatMoney(bands.reduce((sum, b) => sum + b.predictedValueMinor, 0), v.currency)} predicted value at risk of churn
            </p>
            <DataTable<ValueAtRiskBand>
              label="Value at risk by churn band"
              testId="value-at-risk-bands"
              rows={bands}
              rowKey={(b) => b.churnBand}
              rowTestId="value-at-risk-band"
              columns={[
                { header: 'Churn risk', cell: (b) => churnBandLabels[b.churnBand] },
                { header: 'Members', numeric: true, cell: (b) => formatInteger(b.members) },
                { header: 'Predicted value', numeric: true, cell: (b) => formatMoney(b.predictedValueMinor, v.currency) },
                { header: 'Value at risk', numeric: true, cell: (b) => formatMoney(b.valueAtRiskMinor, v.currency) },
              ]}
            />
            <Chart
              label={`Predicted value at risk per churn band in ${v.currency}`}
              height={180}
              option={{
                tooltip: { trigger: 'axis', valueFormatter: (x: number) => formatMoney(x, v.currency) },
                grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
                // Compact ticks ("£120k"): whole amounts ran into each other on a half-width card.
                xAxis: { type: 'value', axisLabel: { formatter: (x: number) => formatMoneyCompact(x, v.currency) } },
                yAxis: { type: 'category', data: bands.map((b) => churnBandLabels[b.churnBand]) },
                series: [
                  {
                    type: 'bar',
                    name: 'Value at risk',
                    data: bands.map((b, i) => ({ value: b.valueAtRiskMinor, itemStyle: { color: ['#12b76a', '#f79009', '#d92d20'][i] } })),
                  },
                ],
              }}
            />
          </>
        )}
      </QueryState>
    </Card>
  );
}

/** Days for a week, weeks up to a quarter, then months: 5 to 14 points whatever the range. */
export function bucketFor(days: number): TimeBucket {
  return days <= 7 ? 'DAY' : days <= 120 ? 'WEEK' : 'MONTH';
}

function NpsTrend({ input, days }: { input: AnalyticsFilterInput; days: number }) {
  const bucket = bucketFor(days);
  const variables = useMemo(
    () => ({ input: { from: input.from, to: input.to, bucket, ...(input.channelKind ? { channelKind: input.channelKind } : {}) } }),
    [input, bucket],
  );
  const [{ data, fetching, error }, refetch] = useQuery({ query: FeedbackTrendDocument, variables });
  const f = data?.analytics.feedback;
  const series = f?.series ?? [];
  const bucketLabel = (start: string) =>
    new Intl.DateTimeFormat('en-GB', bucket === 'MONTH' ? { month: 'short', year: '2-digit', timeZone: 'UTC' } : { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(
      new Date(start),
    );
  const labels = series.map((s) => bucketLabel(s.start));
  const tooFew = npsTooFewNote(bucket, series.map((s, i) => ({ label: labels[i], bucket: s })));
  return (
    <Card title="NPS trend" testId="chart-nps">
      <QueryState
        fetching={fetching}
        error={error}
        hasData={Boolean(f)}
        isEmpty={f?.nps.responses === 0}
        emptyText="No NPS answers in this range"
        refetch={refetch}
        testId="nps"
      >
        {f && (
          <>
            <p className="muted small" data-testid="nps-summary">
              NPS <strong data-testid="nps-score">{formatDecimal(f.nps.score)}</strong> from {formatInteger(f.nps.responses)} answers ·{' '}
              {formatInteger(f.nps.promoters)} promoters, {formatInteger(f.nps.passives)} passives, {formatInteger(f.nps.detractors)} detractors
              {f.csat.responses > 0 && ` · CSAT ${formatDecimal(f.csat.mean)} of 5 (${formatPercent(f.csat.satisfiedRate)} satisfied)`}
            </p>
            <Chart
              label={`NPS per ${bucket.toLowerCase()}, from −100 to 100, with the number of answers`}
              height={220}
              option={{
                // Each point's NPS with the answers it is from, or why it is not drawn.
                tooltip: {
                  trigger: 'axis',
                  formatter: (params: { dataIndex: number }[]) => {
                    const i = params[0]?.dataIndex;
                    return i == null || !series[i] ? '' : npsTooltip(labels[i], series[i]);
                  },
                },
                legend: { top: 0 },
                grid: { left: 8, right: 8, top: 32, bottom: 8, containLabel: true },
                xAxis: { type: 'category', data: labels },
                yAxis: [
                  { type: 'value', name: 'NPS', min: -100, max: 100 },
                  { type: 'value', name: 'Answers', minInterval: 1, splitLine: { show: false } },
                ],
                series: [
                  { type: 'bar', name: 'Answers', yAxisIndex: 1, data: series.map((s) => s.nps.responses), itemStyle: { color: '#d0d5dd' } },
                  { type: 'line', name: 'NPS', connectNulls: true, data: npsLine(series), itemStyle: { color: '#2454d6' } },
                ],
              }}
            />
            {tooFew && (
              <p className="muted small" data-testid="nps-too-few">
                {tooFew}
              </p>
            )}
          </>
        )}
      </QueryState>
    </Card>
  );
}

function CohortRetention({ input }: { input: AnalyticsFilterInput }) {
  const [{ data, fetching, error }, refetch] = useQuery({ query: AnalyticsCohortsDocument, variables: { input } });
  const cohorts = data?.analytics.cohorts.cohorts ?? [];
  const maxOffset = Math.max(0, ...cohorts.flatMap((c) => c.cells.map((cell) => cell.monthOffset)));
  const offsets = Array.from({ length: maxOffset + 1 }, (_, i) => `M+${i}`);
  const cells = cohorts.flatMap((c, y) => c.cells.map((cell) => [cell.monthOffset, y, Math.round(cell.rate * 1000) / 10]));
  return (
    <Card title="Cohort retention" testId="chart-cohorts">
      <QueryState
        fetching={fetching}
        error={error}
        hasData={Boolean(data)}
        isEmpty={cohorts.length === 0}
        emptyText="No first orders in this range"
        refetch={refetch}
        testId="cohorts"
      >
        <Chart
          label="Share of each monthly cohort still buying, by months since the first order"
          height={Math.max(200, 40 + cohorts.length * 28)}
          option={{
            tooltip: { formatter: (p: { value: number[] }) => `${cohorts[p.value[1]]?.month} M+${p.value[0]}: ${p.value[2]}%` },
            grid: { left: 8, right: 16, top: 8, bottom: 48, containLabel: true },
            xAxis: { type: 'category', data: offsets, splitArea: { show: true } },
            yAxis: { type: 'category', data: cohorts.map((c) => `${c.month} (${c.size})`), inverse: true },
            visualMap: { min: 0, max: 100, text: ['100%', '0%'], orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 120, calculable: false, inRange: { color: ['#eff4ff', '#2454d6'] } },
            // Every cell's percentage up to 13 × 13: "Last 12 months" spans 13 calendar months.
            series: [{ type: 'heatmap', name: 'Retention %', data: cells, label: { show: cohorts.length <= 13 && offsets.length <= 13, fontSize: 10 } }],
          }}
        />
      </QueryState>
    </Card>
  );
}

function formatDay(iso: string, offsetDays = 0): string {
  const date = new Date(Date.parse(iso) + offsetDays * dayMs);
  return new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeZone: 'UTC' }).format(date);
}
