import { useEffect, useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery } from 'urql';
import {
  LedgerProblemsDocument,
  PointsJobsDocument,
  RunPointsJobsDocument,
  type PointsJobRunFieldsFragment,
  type PointsJobRunState,
} from '../gql/graphql';
import { ActorName } from '../shared/ActorName';
import { dash, formatDateTimeSeconds, formatInteger } from '../shared/format';
import { Badge, Card, DataTable, FormErrorLine, PageHeader, QueryState, Stat, type Tone } from '../shared/ui';

const pollMs = 2000;
/** Problems listed on the page; the ledgerCheck query returns them all. */
const problemsShown = 50;

const stateTones: Record<PointsJobRunState, Tone> = { RUNNING: 'info', DONE: 'good', FAILED: 'bad', INTERRUPTED: 'warn' };
const stateLabels: Record<PointsJobRunState, string> = { RUNNING: 'Running', DONE: 'Done', FAILED: 'Failed', INTERRUPTED: 'Interrupted' };

/**
 * The scheduled points work (release of pending points, expiry and its notices, voucher expiry, tier period ends, then
 * the ledger check): when it runs next, what each run did and what the check found, and a button to run it now.
 */
export function PointsJobsPage() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: PointsJobsDocument, variables: { recent: 20 }, requestPolicy: 'cache-and-network' });
  const [run, runNow] = useMutation(RunPointsJobsDocument);
  const overview = data?.pointsJobs;
  const isRunning = Boolean(overview?.isRunning) || run.fetching;

  // While a run is under way (this admin's, the schedule's or another's), the list follows it.
  useEffect(() => {
    if (!overview?.isRunning) return;
    const timer = setInterval(() => refetch({ requestPolicy: 'network-only' }), pollMs);
    return () => clearInterval(timer);
  }, [overview?.isRunning, refetch]);

  async function start() {
    await runNow({});
    refetch({ requestPolicy: 'network-only' });
  }

  const latest = overview?.runs[0];
  const lastChecked = overview?.runs.find((r) => r.ledgerConsistent != null);

  return (
    <section className="page" aria-label="Points jobs">
      <PageHeader
        title="Points jobs"
        summary="Release of pending points once the return window closes, expiry and its notices, voucher expiry and tier period ends, then a check that every balance equals its ledger. They run on a schedule; run them now after a programme change, or to check the ledger."
        actions={
          <button type="button" onClick={() => void start()} disabled={isRunning} data-testid="points-jobs-run">
            {isRunning ? 'Running…' : 'Run now'}
          </button>
        }
      />
      <FormErrorLine error={run.error} placed={[]} testId="points-jobs-run-error" />
      {run.data && (
        <p className="notice" role="status" data-testid="points-jobs-run-result">
          Finished: {runSummary(run.data.runPointsJobs)}
        </p>
      )}
      <QueryState fetching={fetching} error={error} hasData={Boolean(overview)} refetch={refetch} testId="points-jobs">
        {overview && (
          <>
            <div className="stat-grid" data-testid="points-jobs-status">
              <Stat
                label="Schedule"
                value={overview.cron ? <span className="mono">{overview.cron}</span> : 'Off in this API process'}
                hint={overview.nextRunAt ? `Next run ${formatDateTimeSeconds(overview.nextRunAt)} (UTC)` : 'POINTS_JOBS_CRON=off'}
                testId="points-jobs-schedule"
              />
              <Stat
                label="Now"
                value={overview.isRunning ? <Badge tone="info">Running</Badge> : 'Idle'}
                hint={latest ? `Last run started ${formatDateTimeSeconds(latest.startedAt)}` : 'No run yet'}
                testId="points-jobs-now"
              />
              <Stat
                label="Ledger"
                value={lastChecked ? ledgerVerdict(lastChecked) : dash}
                hint={lastChecked ? `Checked ${count(lastChecked.membersChecked, 'member', 'members')} at ${formatDateTimeSeconds(lastChecked.finishedAt)}` : 'Not checked yet'}
                testId="points-jobs-ledger"
              />
            </div>
            <div className="card-grid">
              {lastChecked?.ledgerConsistent === false && <LedgerProblems />}
              <Card title="Recent runs" testId="points-jobs-runs" wide>
                {overview.runs.length === 0 ? (
                  <p className="empty">No run yet</p>
                ) : (
                  <DataTable<PointsJobRunFieldsFragment>
                    label="Recent runs"
                    rows={overview.runs}
                    rowKey={(r) => r.id}
                    rowTestId="points-jobs-row"
                    columns={[
                      { header: 'Started', cell: (r) => <time dateTime={r.startedAt}>{formatDateTimeSeconds(r.startedAt)}</time> },
                      { header: 'By', cell: (r) => <span data-testid="points-jobs-by">{startedBy(r)}</span> },
                      {
                        header: 'State',
                        cell: (r) => (
                          <>
                            <Badge tone={stateTones[r.state]}>{stateLabels[r.state]}</Badge>
                            {r.error && <div className="small muted">{r.error}</div>}
                          </>
                        ),
                      },
                      { header: 'Took', numeric: true, cell: (r) => duration(r) },
                      { header: 'What it did', cell: (r) => (r.state === 'DONE' ? whatItDid(r) || 'Nothing was due' : dash) },
                      { header: 'Ledger', cell: (r) => (r.ledgerConsistent == null ? dash : ledgerVerdict(r)) },
                    ]}
                  />
                )}
              </Card>
            </div>
          </>
        )}
      </QueryState>
    </section>
  );
}

function ledgerVerdict(run: PointsJobRunFieldsFragment): ReactNode {
  return run.ledgerConsistent ? (
    <Badge tone="good">Consistent</Badge>
  ) : (
    <Badge tone="bad">{count(run.ledgerProblems, 'problem', 'problems')}</Badge>
  );
}

interface Problem {
  kind: string;
  memberId: string | null;
  detail: string;
}

/**
 * What the ledger check finds wrong, read on demand: the check reads every member, so it runs when asked, not with the
 * page. Each problem names its member and the numbers that disagree.
 */
function LedgerProblems() {
  const [isAsked, setAsked] = useState(false);
  const [{ data, fetching, error }, recheck] = useQuery({ query: LedgerProblemsDocument, pause: !isAsked, requestPolicy: 'network-only' });
  const check = data?.ledgerCheck;
  const problems: Problem[] = check
    ? [
        ...check.mismatches.map((m) => ({
          kind: 'Balance differs from its ledger',
          memberId: m.memberId,
          detail: `available ${formatInteger(m.balanceAvailable)} (ledger ${formatInteger(m.ledgerAvailable)}, lots ${formatInteger(m.lotsAvailable)}), pending ${formatInteger(m.balancePending)} (ledger ${formatInteger(m.ledgerPending)}, lots ${formatInteger(m.lotsPending)}), lifetime ${formatInteger(m.balanceLifetime)} (ledger ${formatInteger(m.ledgerLifetime)})`,
        })),
        ...check.mergedAwayHoldings.map((m) => ({
          kind: 'Merged-away record still holds something',
          memberId: m.memberId,
          detail: `${m.orders} orders, ${m.liveLots} live lots, ${m.redemptions} redemptions, ${m.ledgerRowsAfterMerge} ledger rows after the merge`,
        })),
        ...check.erasedHoldings.map((m) => ({
          kind: m.isClosed ? 'Erased member still holds points' : 'Erased member’s account was not closed',
          memberId: m.memberId,
          detail: `available ${formatInteger(m.available)}, pending ${formatInteger(m.pending)}, ${m.liveLots} live lots`,
        })),
        ...check.aggregateMismatches.map((m) => ({ kind: `Aggregate ${m.aggregate}`, memberId: m.memberId, detail: [m.problem, m.key, m.channelId && `channel ${m.channelId}`].filter(Boolean).join(', ') })),
      ]
    : [];
  return (
    <Card
      title="Ledger problems"
      testId="ledger-problems"
      wide
      actions={
        <button type="button" className="secondary" onClick={() => (isAsked ? recheck({ requestPolicy: 'network-only' }) : setAsked(true))} disabled={fetching} data-testid="ledger-problems-list">
          {fetching ? 'Checking…' : isAsked ? 'Check again' : 'Check now and list them'}
        </button>
      }
    >
      <p className="small">
        The last check found balances, lots or history totals that disagree with the ledger. Every change to points is a ledger row, so the ledger is right and the
        other figure is wrong: find out which write missed it before correcting anything.
      </p>
      <FormErrorLine error={error} placed={[]} testId="ledger-problems-error" />
      {check?.isConsistent && <p className="notice">Consistent now: {formatInteger(check.membersChecked)} members checked.</p>}
      {problems.length > 0 && (
        <>
          <DataTable<Problem>
            label="Ledger problems"
            rows={problems.slice(0, problemsShown)}
            rowKey={(p) => `${p.kind}:${p.memberId}:${p.detail}`}
            rowTestId="ledger-problem"
            columns={[
              { header: 'Problem', cell: (p) => p.kind },
              { header: 'Member', cell: (p) => (p.memberId ? <Link to={`/members/${p.memberId}`} className="mono small">{p.memberId}</Link> : dash) },
              { header: 'Figures', cell: (p) => <span className="small">{p.detail}</span> },
            ]}
          />
          {problems.length > problemsShown && (
            <p className="small muted">
              The first {problemsShown} of {formatInteger(problems.length)}; the <span className="mono">ledgerCheck</span> query returns them all.
            </p>
          )}
        </>
      )}
    </Card>
  );
}

// A scheduled run has no triggeredBy: it is named as ActorName names the `schedule` reference, as the other pages do.
function startedBy(run: PointsJobRunFieldsFragment): ReactNode {
  if (run.trigger === 'SCHEDULE') return <ActorName actor="schedule" />;
  if (run.trigger === 'CLI') return <span className="mono">npm run points:jobs</span>;
  return run.triggeredBy ? <ActorName actor={run.triggeredBy} /> : 'an admin';
}

function duration(run: PointsJobRunFieldsFragment): string {
  if (!run.finishedAt) return dash;
  const seconds = (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000;
  return seconds < 60 ? `${seconds.toFixed(1)} s` : `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

/** "1 pending lot", "2 pending lots". */
const count = (n: number | null | undefined, one: string, many: string) => `${formatInteger(n)} ${n === 1 ? one : many}`;

/** The counts that are not zero, e.g. "3 pending lots released, 120 points expired"; '' when nothing was due. */
function whatItDid(run: PointsJobRunFieldsFragment): string {
  return [
    run.lotsReleased > 0 && `${count(run.lotsReleased, 'pending lot', 'pending lots')} released`,
    run.pointsExpired > 0 && `${count(run.pointsExpired, 'point', 'points')} expired`,
    run.vouchersExpired > 0 && `${count(run.vouchersExpired, 'voucher', 'vouchers')} expired`,
    run.tierPeriodsEnded > 0 && `${count(run.tierPeriodsEnded, 'tier period', 'tier periods')} ended`,
  ]
    .filter(Boolean)
    .join(', ');
}

function runSummary(run: PointsJobRunFieldsFragment): string {
  const did = whatItDid(run) || 'nothing was due';
  const ledger = run.ledgerConsistent ? 'the ledger is consistent' : `the ledger check found ${count(run.ledgerProblems, 'problem', 'problems')}`;
  return `${did}; ${ledger}.`;
}
