import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, type CombinedError } from 'urql';
import { useCurrentAdmin } from '../auth/RequireAuth';
import {
  ActivateModelVersionDocument,
  ModelJobDocument,
  ModelJobsDocument,
  ModelVersionsDocument,
  OutboxSubscribersDocument,
  QueueHealthDocument,
  RetrainModelDocument,
  type OutboxSubscribersQuery,
  type QueueHealthQuery,
  type ModelJobFieldsFragment,
  type ModelKind,
  type ModelVersionFieldsFragment,
} from '../gql/graphql';
import { ActorName } from '../shared/ActorName';
import { Chart } from '../shared/Chart';
import { errorMessage, fieldErrorMap } from '../shared/errors';
import { dash, formatDateTime, formatDecimal, formatInteger, formatMoney, formatPercent, humanize } from '../shared/format';
import { ownValue } from '../shared/lookup';
import { can } from '../shared/permissions';
import { Badge, Card, DataTable, Dialog, ErrorBox, Field, FormActions, PageHeader, QueryState, type Tone } from '../shared/ui';
import { gateReasonText, jobWhen } from './model-format';

const kinds: { kind: ModelKind; label: string }[] = [
  { kind: 'RECOMMENDER', label: 'Recommender' },
  { kind: 'CHURN', label: 'Churn model' },
  { kind: 'VALUE', label: 'Customer value' },
];
const pollMs = 1000;
const queuePollMs = 5000;
const statusTones: Record<string, Tone> = { ACTIVE: 'good', TRAINING: 'info', REJECTED: 'warn', FAILED: 'bad', RETIRED: 'neutral' };

export function ModelsPage() {
  const admin = useCurrentAdmin();
  const [kind, setKind] = useState<ModelKind>('RECOMMENDER');
  const [versions, refetchVersions] = useQuery({ query: ModelVersionsDocument, variables: { kind, first: 20 } });
  const reloadVersions = () => refetchVersions({ requestPolicy: 'network-only' });
  // Bumped when a job is queued, so the queue-health card reads the queues at once rather than at its next poll.
  const [queueTick, setQueueTick] = useState(0);

  return (
    <section className="page" aria-label="Models">
      <PageHeader title="Models" summary="Training runs, their metrics next to the baselines, and which version serves" />
      {can(admin, 'models:train') && <Retrain onDone={reloadVersions} onQueued={() => setQueueTick((n) => n + 1)} />}
      {can(admin, 'queues:read') && <QueueHealthCard tick={queueTick} />}
      {can(admin, 'queues:read') && <OutboxSubscribersCard />}
      <div className="tabs" role="group" aria-label="Model kind">
        {kinds.map((k) => (
          <button
            key={k.kind}
            type="button"
            className={k.kind === kind ? 'tab active' : 'tab'}
            aria-pressed={k.kind === kind}
            onClick={() => setKind(k.kind)}
            data-testid={`models-kind-${k.kind.toLowerCase()}`}
          >
            {k.label}
          </button>
        ))}
      </div>
      <QueryState
        fetching={versions.fetching}
        error={versions.error}
        hasData={Boolean(versions.data)}
        isEmpty={versions.data?.modelVersions.length === 0}
        emptyText="No versions of this model yet: retrain to create one"
        retry={reloadVersions}
        testId="versions"
      >
        {versions.data && (
          <Versions versions={versions.data.modelVersions} canActivate={can(admin, 'models:activate')} onActivated={reloadVersions} />
        )}
      </QueryState>
    </section>
  );
}

function Retrain({ onDone, onQueued }: { onDone(): void; onQueued(): void }) {
  const [{ fetching }, retrain] = useMutation(RetrainModelDocument);
  const [jobs, refetchJobs] = useQuery({ query: ModelJobsDocument, variables: { first: 5 } });
  const [jobId, setJobId] = useState<string | null>(null);
  const [liveJob, setLiveJob] = useState<ModelJobFieldsFragment | null>(null);
  const [error, setError] = useState<CombinedError>();
  // The polled job is fresher than the list, which reloads only when a job starts or ends.
  const jobRows = (jobs.data?.modelJobs ?? []).map((j) => (liveJob && j.id === liveJob.id ? liveJob : j));

  async function start(kind: ModelKind) {
    setError(undefined);
    const result = await retrain({ input: { kind } });
    if (result.error) setError(result.error);
    else if (result.data) {
      setJobId(result.data.retrainModel.id);
      refetchJobs({ requestPolicy: 'network-only' });
      onQueued();
    }
  }

  return (
    <Card
      title="Training"
      wide
      testId="training"
      actions={
        <div className="actions">
          {kinds.map((k) => (
            <button key={k.kind} type="button" disabled={fetching} onClick={() => start(k.kind)} data-testid={`retrain-${k.kind.toLowerCase()}`}>
              Retrain {k.label.toLowerCase()}
            </button>
          ))}
        </div>
      }
    >
      {error && <ErrorBox error={error} testId="retrain-error" />}
      {jobId && (
        <JobProgress
          id={jobId}
          onUpdate={setLiveJob}
          onFinished={() => {
            onDone();
            refetchJobs({ requestPolicy: 'network-only' });
          }}
        />
      )}
      <QueryState
        fetching={jobs.fetching}
        error={jobs.error}
        hasData={Boolean(jobs.data)}
        isEmpty={jobs.data?.modelJobs.length === 0}
        emptyText="No training jobs yet"
        testId="jobs"
      >
        <DataTable<ModelJobFieldsFragment>
          label="Recent training jobs"
          rows={jobRows}
          rowKey={(j) => j.id}
          rowTestId="job-row"
          columns={[
            { header: 'When', cell: (j) => <span title={`Queued ${formatDateTime(j.createdAt)}`} data-testid="job-when">{jobWhen(j)}</span> },
            { header: 'Kind', cell: (j) => humanize(j.kind) },
            { header: 'State', cell: (j) => <Badge tone={j.state === 'FAILED' ? 'bad' : j.state === 'COMPLETED' ? 'good' : 'info'}>{humanize(j.state)}</Badge> },
            { header: 'Phase', cell: (j) => j.progress?.phase ?? dash },
            { header: 'By', cell: (j) => <ActorName actor={j.requestedBy} /> },
            { header: 'Failure', cell: (j) => j.failedReason ?? dash },
          ]}
        />
      </QueryState>
    </Card>
  );
}

/** Polls modelJob(id) until the job completes or fails. */
function JobProgress({ id, onUpdate, onFinished }: { id: string; onUpdate(job: ModelJobFieldsFragment): void; onFinished(): void }) {
  const [{ data }, refetch] = useQuery({ query: ModelJobDocument, variables: { id }, requestPolicy: 'network-only' });
  const job = data?.modelJob;
  const isFinished = job?.state === 'COMPLETED' || job?.state === 'FAILED';

  useEffect(() => {
    if (isFinished) return;
    const timer = setInterval(() => refetch({ requestPolicy: 'network-only' }), pollMs);
    return () => clearInterval(timer);
  }, [isFinished, refetch]);

  useEffect(() => {
    if (job) onUpdate(job);
  }, [job, onUpdate]);

  useEffect(() => {
    if (isFinished) onFinished();
    // Once per job: when it reaches a final state.
  }, [isFinished]); // eslint-disable-line react-hooks/exhaustive-deps

  if (!job) return <p className="muted" role="status">Waiting for the job…</p>;
  const p = job.progress;
  const percent = job.state === 'COMPLETED' ? 100 : p?.percent ?? 0;
  return (
    <div className="job-progress" data-testid="job-progress" aria-live="polite">
      <p>
        <strong>{humanize(job.kind)}</strong> job {job.id}: <Badge tone={job.state === 'FAILED' ? 'bad' : job.state === 'COMPLETED' ? 'good' : 'info'}>{humanize(job.state)}</Badge>{' '}
        <span data-testid="job-phase">{p?.phase ?? 'queued'}</span>
        {p?.epoch != null && ` · epoch ${p.epoch}${p.epochs ? ` of ${p.epochs}` : ''}`}
        {p?.loss != null && ` · loss ${p.loss.toFixed(4)}`}
      </p>
      <progress max={100} value={percent} aria-label="Training progress" data-testid="job-percent" />
      {job.failedReason && <p className="error">{job.failedReason}</p>}
    </div>
  );
}

function Versions({ versions, canActivate, onActivated }: { versions: ModelVersionFieldsFragment[]; canActivate: boolean; onActivated(): void }) {
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [activating, setActivating] = useState<ModelVersionFieldsFragment | null>(null);
  const active = versions.find((v) => v.status === 'ACTIVE') ?? null;
  const selected = versions.find((v) => v.id === selectedId) ?? versions[0];

  return (
    <>
      <DataTable<ModelVersionFieldsFragment>
        label="Model versions"
        rows={versions}
        rowKey={(v) => v.id}
        rowTestId="version-row"
        rowClassName={(v) => (v.id === selected?.id ? 'is-selected' : undefined)}
        columns={[
          { header: 'Trained', cell: (v) => formatDateTime(v.finishedAt ?? v.createdAt) },
          {
            header: 'Algorithm',
            cell: (v) => (
              <>
                {v.algorithm}
                {standsInFor(v) && (
                  <span className="muted small" data-testid="version-stands-in">
                    {' '}
                    · baseline in place of {standsInFor(v)}
                  </span>
                )}
              </>
            ),
          },
          { header: 'Status', cell: (v) => <span data-testid="version-status"><Badge tone={statusTones[v.status]}>{humanize(v.status)}</Badge></span> },
          { header: headlineName(versions[0]), numeric: true, cell: (v) => formatDecimal(headline(v)) },
          { header: 'Rows', numeric: true, cell: (v) => formatInteger(v.trainRows) },
          {
            header: 'Gate',
            cell: (v) => (
              <span className="gate" title={v.gateReason ?? undefined}>
                {v.isPromoted == null ? 'Undecided' : v.isPromoted ? 'Promoted' : 'Not promoted'}
                {gateReasonText(v) && <span className="muted small"> · {gateReasonText(v)}</span>}
                {v.activationReason != null && (
                  <span className="muted small" title={v.activationReason}>
                    {' '}
                    · activated by hand
                  </span>
                )}
              </span>
            ),
          },
          {
            header: 'Actions',
            cell: (v) => (
              <div className="actions">
                <button type="button" className="secondary small" onClick={() => setSelectedId(v.id)} aria-pressed={v.id === selected?.id}>
                  Metrics
                </button>
                {canActivate && (v.status === 'REJECTED' || v.status === 'RETIRED') && (
                  <button type="button" className="small" onClick={() => setActivating(v)} data-testid="version-activate">
                    {isRollback(v, active) ? 'Roll back to this' : 'Activate this version'}
                  </button>
                )}
              </div>
            ),
          },
        ]}
      />
      {selected &&
        (selected.kind === 'VALUE' ? (
          <ValueMetrics version={selected} reference={referenceFor(selected, versions)} />
        ) : (
          <MetricsChart version={selected} reference={referenceFor(selected, versions)} />
        ))}
      <Dialog title="Activate model version" isOpen={Boolean(activating)} onClose={() => setActivating(null)} testId="activate-dialog">
        {activating && (
          <ActivateForm
            version={activating}
            onCancel={() => setActivating(null)}
            onDone={() => {
              setActivating(null);
              onActivated();
            }}
          />
        )}
      </Dialog>
    </>
  );
}

function ActivateForm({ version, onDone, onCancel }: { version: ModelVersionFieldsFragment; onDone(): void; onCancel(): void }) {
  const [{ fetching }, activate] = useMutation(ActivateModelVersionDocument);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<CombinedError>();
  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await activate({ input: { id: version.id, reason: reason.trim() } });
    if (result.error) setError(result.error);
    else onDone();
  }
  return (
    <form onSubmit={submit} className="resource-form">
      <p>
        {version.algorithm} trained {formatDateTime(version.finishedAt ?? version.createdAt)} will serve instead of the active version.
      </p>
      <Field label="Reason" error={fieldErrorMap(error).reason} hint="Kept in the audit log">
        {(props) => <input {...props} required value={reason} onChange={(e) => setReason(e.target.value)} name="reason" />}
      </Field>
      {error && !fieldErrorMap(error).reason && (
        <p className="error" role="alert" data-testid="activate-error">
          {errorMessage(error)}
        </p>
      )}
      <FormActions submitLabel="Activate" busy={fetching} onCancel={onCancel} testId="activate-confirm" />
    </form>
  );
}

/** The version a version's metrics are read beside, and what it is to it. */
interface Reference {
  label: string;
  version: ModelVersionFieldsFragment;
}

/**
 * Beside any other version, the active one; beside the active version, the one that served before it (the latest
 * activated before it was), so a new version just promoted still reads against what it replaced.
 */
export function referenceFor(version: ModelVersionFieldsFragment, versions: ModelVersionFieldsFragment[]): Reference | null {
  const active = versions.find((v) => v.status === 'ACTIVE') ?? null;
  if (!active) return null;
  if (active.id !== version.id) return { label: 'Active version', version: active };
  // A RETIRED version has served even when its activation time was not recorded: its training time stands in.
  const servedFrom = (v: ModelVersionFieldsFragment) => Date.parse(v.activatedAt ?? v.createdAt);
  const previous = versions
    .filter((v) => v.id !== active.id && (v.activatedAt != null || v.status === 'RETIRED') && servedFrom(v) <= servedFrom(active))
    .sort((a, b) => servedFrom(b) - servedFrom(a))[0];
  return previous ? { label: `Previous version (${previous.algorithm}, ${formatDateTime(previous.finishedAt ?? previous.createdAt)})`, version: previous } : null;
}

/** Metric paths with 0–1 values (ndcg, recall, AUC…), e.g. `all ndcg@10`; counts stay out of the chart. */
export function rateMetrics(metrics: Record<string, unknown>, prefix = ''): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(metrics)) {
    const name = prefix ? `${prefix} ${key}` : key;
    if (typeof value === 'number' && value >= 0 && value <= 1) out[name] = value;
    else if (value && typeof value === 'object' && !Array.isArray(value)) Object.assign(out, rateMetrics(value as Record<string, unknown>, name));
  }
  return out;
}

/**
 * Going back to a version that served before the active one. Only a RETIRED version has served (it was ACTIVE until
 * replaced); a REJECTED one never has, so serving it is a first activation, not a rollback.
 */
function isRollback(v: ModelVersionFieldsFragment, active: ModelVersionFieldsFragment | null): boolean {
  const hasServed = v.status === 'RETIRED' || v.activatedAt != null;
  return hasServed && active != null && Date.parse(v.createdAt) < Date.parse(active.createdAt);
}

const metricNames: Record<string, string> = {
  'ndcg@10': 'nDCG@10',
  'recall@10': 'Recall@10',
  'hitrate@10': 'Hit rate@10',
  coverage: 'Catalogue coverage',
  rocAuc: 'ROC-AUC',
  prAuc: 'PR-AUC',
  brier: 'Brier score',
  churnRate: 'Churn rate',
  meanPredicted: 'Mean predicted',
  observed: 'Observed rate',
  ece: 'Expected calibration error',
};

// The groups rateMetrics prefixes a metric with: the recommender's views (docs/eval/protocol.md) and the churn model's reliability.
const metricGroups: Record<string, string> = { all: 'all items', new: 'items not bought before', calibration: 'calibration' };

/** A metric path of rateMetrics in words: `calibration meanPredicted` → "Mean predicted (calibration)". */
export function metricLabel(path: string): string {
  const parts = path.split(' ');
  const name = parts.pop()!;
  const label = ownValue(metricNames, name) ?? humanize(name.replace(/([a-z0-9])([A-Z])/g, '$1_$2'));
  const groups = parts.map((p) => ownValue(metricGroups, p) ?? p);
  return groups.length ? `${label} (${groups.join(', ')})` : label;
}

/** The model a baseline version stands in for, when the gate kept that model out (its params' `servedInsteadOf`). */
function standsInFor(v: ModelVersionFieldsFragment): string | null {
  const insteadOf = (v.params as { servedInsteadOf?: { algorithm?: unknown } } | null)?.servedInsteadOf?.algorithm;
  return typeof insteadOf === 'string' ? insteadOf : null;
}

function headlineName(v: ModelVersionFieldsFragment | undefined): string {
  return v?.kind === 'CHURN' ? 'ROC-AUC' : v?.kind === 'VALUE' ? 'Gini' : 'nDCG@10';
}

function headline(v: ModelVersionFieldsFragment): number | null {
  if (v.kind === 'VALUE') return numberOr(v.metrics.gini);
  const m = rateMetrics(v.metrics);
  return (v.kind === 'CHURN' ? m.rocAuc : m['all ndcg@10']) ?? null;
}

const numberOr = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

function GateDecision({ version }: { version: ModelVersionFieldsFragment }) {
  return (
    <p className="muted" data-testid="gate-decision">
      Promotion gate: {version.isPromoted == null ? 'not decided yet' : version.isPromoted ? 'promoted' : 'not promoted'}
      {gateReasonText(version) ? ` — ${gateReasonText(version)}` : ''}
      {/* By hand: who, when and why, beside the gate's own decision, which it leaves as it was. */}
      {version.activatedBy && version.activationReason != null ? (
        <span data-testid="activated-by-hand">
          {' · activated by hand by '}
          <ActorName actor={version.activatedBy} testId="activated-by" />
          {version.activatedAt && ` on ${formatDateTime(version.activatedAt)}`}: {version.activationReason}
        </span>
      ) : (
        version.activatedBy && (
          <>
            {' · activated by '}
            <ActorName actor={version.activatedBy} testId="activated-by" />
          </>
        )
      )}
    </p>
  );
}

interface ValueMetricsRow {
  name: string;
  metrics: Record<string, unknown>;
}

interface CalibrationBin {
  meanPredicted: number;
  meanActual: number;
  count: number;
}

/** The protocol's customer-value metrics of a version (docs/eval/protocol.md) beside each baseline's and the active (or previous) version's, and its decile calibration. */
function ValueMetrics({ version, reference }: { version: ModelVersionFieldsFragment; reference: Reference | null }) {
  const rows: ValueMetricsRow[] = [
    { name: `This version (${version.algorithm})`, metrics: version.metrics },
    ...Object.entries(version.baselineMetrics).map(([name, m]) => ({ name, metrics: (m ?? {}) as Record<string, unknown> })),
    ...(reference ? [{ name: reference.label, metrics: reference.version.metrics }] : []),
  ];
  const calibration = (Array.isArray(version.metrics.calibration) ? version.metrics.calibration : []) as CalibrationBin[];
  const scoring = version.valueScoring;
  const units = (value: unknown) => formatDecimal(numberOr(value));
  return (
    <Card title={`Metrics of ${version.algorithm} (${version.id.slice(0, 8)})`} wide testId="version-metrics">
      <GateDecision version={version} />
      <DataTable<ValueMetricsRow>
        label="Holdout metrics of this version next to each baseline and the active or previous version"
        testId="value-metrics"
        rows={rows}
        rowKey={(r) => r.name}
        rowTestId="value-metrics-row"
        columns={[
          { header: 'Model', cell: (r) => r.name },
          { header: 'Gini (normalised)', numeric: true, cell: (r) => formatDecimal(numberOr(r.metrics.gini)) },
          { header: 'Spearman', numeric: true, cell: (r) => formatDecimal(numberOr(r.metrics.spearman)) },
          { header: 'Top-decile capture', numeric: true, cell: (r) => formatPercent(numberOr(r.metrics.topDecileCapture)) },
          { header: 'MAE', numeric: true, cell: (r) => units(r.metrics.mae) },
          { header: 'RMSE', numeric: true, cell: (r) => units(r.metrics.rmse) },
        ]}
      />
      <p className="muted small">MAE and RMSE are in the history's currency units over the {version.horizonDays ?? '—'}-day holdout; higher Gini, Spearman and capture are better.</p>
      {scoring && (
        <p className="muted small" data-testid="value-bands">
          Bands: HIGH from {formatMoney(scoring.highFromMinor, scoring.currency)} (top {formatPercent(1 - scoring.highQuantile)}), MEDIUM from{' '}
          {formatMoney(scoring.mediumFromMinor, scoring.currency)} (top {formatPercent(1 - scoring.mediumQuantile)}) · {formatInteger(scoring.members)} members scored
        </p>
      )}
      {calibration.length === 0 ? (
        <p className="empty">This version recorded no calibration</p>
      ) : (
        <div data-testid="value-calibration">
          <Chart
            label="Decile calibration: mean predicted against mean actual spend in each tenth of the predictions, lowest first"
            height={260}
            option={{
              tooltip: { trigger: 'axis' },
              legend: { top: 0 },
              grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
              xAxis: { type: 'category', name: 'Decile', data: calibration.map((_, i) => `D${i + 1}`) },
              yAxis: { type: 'value', name: 'Mean spend' },
              series: [
                { type: 'bar', name: 'Mean predicted', data: calibration.map((b) => b.meanPredicted), itemStyle: { color: '#2454d6' } },
                { type: 'line', name: 'Mean actual', data: calibration.map((b) => b.meanActual), itemStyle: { color: '#f79009' } },
              ],
            }}
          />
        </div>
      )}
    </Card>
  );
}

function MetricsChart({ version, reference }: { version: ModelVersionFieldsFragment; reference: Reference | null }) {
  const own = rateMetrics(version.metrics);
  const names = Object.keys(own);
  const series = [
    { name: 'This version', values: own },
    ...Object.entries(version.baselineMetrics).map(([name, m]) => ({ name, values: rateMetrics((m ?? {}) as Record<string, unknown>) })),
    ...(reference ? [{ name: reference.label, values: rateMetrics(reference.version.metrics) }] : []),
  ];
  return (
    <Card title={`Metrics of ${version.algorithm} (${version.id.slice(0, 8)})`} wide testId="version-metrics">
      <GateDecision version={version} />
      {names.length === 0 ? (
        <p className="empty">This version recorded no metrics</p>
      ) : (
        <Chart
          label="Holdout metrics of this version next to each baseline and the active or previous version"
          height={Math.max(240, names.length * 22 * series.length + 60)}
          option={{
            tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
            legend: { top: 0, type: 'scroll' },
            grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
            xAxis: { type: 'value', max: 1 },
            yAxis: { type: 'category', data: names.map(metricLabel), inverse: true },
            series: series.map((s) => ({ type: 'bar', name: s.name, data: names.map((n) => s.values[n] ?? null) })),
          }}
        />
      )}
    </Card>
  );
}

type QueueRow = QueueHealthQuery['queueHealth'][number];

/** Jobs per state in every queue and whether a worker is connected, refreshed every few seconds. */
function QueueHealthCard({ tick }: { tick: number }) {
  const [{ data, fetching, error }, refetch] = useQuery({ query: QueueHealthDocument, requestPolicy: 'network-only' });
  useEffect(() => {
    if (tick > 0) refetch({ requestPolicy: 'network-only' });
    const timer = setInterval(() => refetch({ requestPolicy: 'network-only' }), queuePollMs);
    return () => clearInterval(timer);
  }, [refetch, tick]);
  const rows = data?.queueHealth ?? [];
  const checkedAt = rows[0]?.checkedAt;
  return (
    <Card
      title="Queue health"
      wide
      testId="queue-health"
      actions={checkedAt && <span className="muted small">Checked {formatDateTime(checkedAt)}, every {queuePollMs / 1000} s</span>}
    >
      <QueryState
        fetching={fetching}
        error={error}
        hasData={Boolean(data)}
        isEmpty={rows.length === 0}
        emptyText="No queues reported"
        refetch={refetch}
        loadingText="Reading the queues…"
        testId="queues"
      >
        <DataTable<QueueRow>
          label="Jobs per queue"
          rows={rows}
          rowKey={(q) => q.name}
          rowTestId="queue-row"
          columns={[
            {
              header: 'Queue',
              cell: (q) => (
                <>
                  <span className="mono">{q.name}</span>
                  <br />
                  <span className="muted small">{q.description}</span>
                </>
              ),
            },
            {
              header: 'Worker',
              cell: (q) => (
                <span data-testid="queue-worker">
                  <Badge tone={q.isWorkerAlive ? 'good' : 'bad'}>
                    {q.isWorkerAlive ? `${q.workers} ${q.workers === 1 ? 'worker' : 'workers'}` : 'No worker'}
                  </Badge>
                </span>
              ),
            },
            { header: 'Waiting', numeric: true, cell: (q) => formatInteger(q.waiting + q.paused) },
            { header: 'Active', numeric: true, cell: (q) => formatInteger(q.active) },
            { header: 'Delayed', numeric: true, cell: (q) => formatInteger(q.delayed) },
            { header: 'Failed', numeric: true, cell: (q) => (q.failed ? <Badge tone="bad">{formatInteger(q.failed)}</Badge> : '0') },
            { header: 'Completed', numeric: true, cell: (q) => formatInteger(q.completed) },
          ]}
        />
      </QueryState>
    </Card>
  );
}

type SubscriberRow = OutboxSubscribersQuery['outboxSubscribers'][number];

/** The outbox subscribers plugins registered: events behind each, and the failure of the event one is stuck on. */
function OutboxSubscribersCard() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: OutboxSubscribersDocument, requestPolicy: 'network-only' });
  useEffect(() => {
    const timer = setInterval(() => refetch({ requestPolicy: 'network-only' }), queuePollMs);
    return () => clearInterval(timer);
  }, [refetch]);
  const rows = data?.outboxSubscribers ?? [];
  return (
    <Card title="Outbox subscribers" wide testId="outbox-subscribers">
      <QueryState
        fetching={fetching}
        error={error}
        hasData={Boolean(data)}
        isEmpty={rows.length === 0}
        emptyText="No outbox subscribers: plugins add them"
        refetch={refetch}
        loadingText="Reading the subscribers…"
        testId="subscribers"
      >
        <DataTable<SubscriberRow>
          label="Outbox subscribers"
          rows={rows}
          rowKey={(s) => s.name}
          rowTestId="subscriber-row"
          columns={[
            {
              header: 'Subscriber',
              cell: (s) => (
                <>
                  <span className="mono">{s.name}</span>
                  <br />
                  <span className="muted small">{s.eventTypes ? s.eventTypes.join(', ') : 'every event'}</span>
                </>
              ),
            },
            {
              header: 'State',
              cell: (s) => (
                <Badge tone={s.isStuck ? 'bad' : s.attempts > 0 ? 'warn' : 'good'}>
                  {s.isStuck ? 'Stuck, retrying' : s.attempts > 0 ? 'Retrying' : s.lag === null ? 'Not started' : 'Running'}
                </Badge>
              ),
            },
            { header: 'Behind', numeric: true, cell: (s) => (s.lag === null ? '—' : `${formatInteger(s.lag)}${s.lag >= 10_000 ? '+' : ''}`) },
            { header: 'Attempts', numeric: true, cell: (s) => formatInteger(s.attempts) },
            {
              header: 'Last error',
              cell: (s) =>
                s.lastError ? (
                  <>
                    <span className="small">{s.lastError}</span>
                    <br />
                    <span className="muted small">
                      {formatDateTime(s.lastErrorAt)}
                      {s.nextAttemptAt && `; next try ${formatDateTime(s.nextAttemptAt)}`}
                    </span>
                  </>
                ) : (
                  dash
                ),
            },
          ]}
        />
      </QueryState>
    </Card>
  );
}
