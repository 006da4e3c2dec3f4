import { useState, type FormEvent } from 'react';
import { Link, NavLink, useLocation, useParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { useCurrentAdmin } from '../auth/RequireAuth';
import {
  CampaignDocument,
  CampaignResultsDocument,
  CancelCampaignDocument,
  LaunchCampaignDocument,
  SegmentMemberCountDocument,
  type CampaignQuery,
  type CampaignResultsQuery,
} from '../gql/graphql';
import { ActorName } from '../shared/ActorName';
import { errorMessage } from '../shared/errors';
import { dash, formatDateTime, formatDecimal, formatInteger, formatMoney, formatPercent, humanize } from '../shared/format';
import { can } from '../shared/permissions';
import { Badge, Card, DataTable, Dialog, FormActions, PageHeader, QueryState, Stat } from '../shared/ui';
import { UpliftCard } from '../shared/UpliftCard';
import { CampaignForm } from './CampaignForm';
import { describeActions, formatRateUplift, statusTones } from './campaign-format';

type Campaign = CampaignQuery['campaign'];
type Results = NonNullable<CampaignResultsQuery['campaign']['results']>;
type GroupRow = Results['treated'];

/** A campaign: its set-up, launch and cancel, members reached, and on the Results tab its uplift over the holdout. */
export function CampaignDetail() {
  const { id = '' } = useParams();
  const isResults = useLocation().pathname.endsWith('/results');
  const admin = useCurrentAdmin();
  const [{ data, fetching, error }, refetch] = useQuery({ query: CampaignDocument, variables: { id } });
  const reload = () => refetch({ requestPolicy: 'network-only' });
  const c = data?.campaign;

  return (
    <section className="page" aria-label="Campaign">
      <p className="breadcrumb">
        <Link to="/campaigns">← Campaigns</Link>
      </p>
      <PageHeader
        title={c?.name ?? 'Campaign'}
        summary={
          c && (
            <span data-testid="campaign-status">
              <Badge tone={statusTones[c.status]}>{humanize(c.status)}</Badge>
            </span>
          )
        }
        actions={c && can(admin, 'campaigns:manage') && <CampaignActions campaign={c} onChanged={reload} />}
      />
      <nav className="tabs" aria-label="Campaign sections">
        <NavLink to={`/campaigns/${id}`} end className={({ isActive }) => (isActive ? 'tab active' : 'tab')} data-testid="tab-overview">
          Overview
        </NavLink>
        <NavLink to={`/campaigns/${id}/results`} className={({ isActive }) => (isActive ? 'tab active' : 'tab')} data-testid="tab-results">
          Results
        </NavLink>
      </nav>
      <QueryState fetching={fetching} error={error} hasData={Boolean(c)} retry={reload} loadingText="Loading campaign…" testId="campaign">
        {c && (isResults ? <ResultsSection campaign={c} /> : <Overview campaign={c} />)}
      </QueryState>
    </section>
  );
}

function Overview({ campaign: c }: { campaign: Campaign }) {
  const n = c.counts;
  const isLaunched = c.launchedAt != null;
  return (
    <div className="card-grid">
      <Card title="Set-up" testId="campaign-setup">
        <dl className="facts">
          <dt>Segment</dt>
          <dd>
            {c.segment.name} <span className="muted small">({humanize(c.segment.kind).toLowerCase()})</span>
          </dd>
          <dt>{c.actionKinds.length > 1 ? 'Actions' : 'Action'}</dt>
          <dd>
            {/* Every action goes to each treated member, under the one holdout. */}
            <ul className="plain" data-testid="campaign-action">
              {describeActions(c).map((phrase) => (
                <li key={phrase} data-testid="campaign-action-item">
                  {phrase}
                </li>
              ))}
            </ul>
          </dd>
          {c.message && (
            <>
              <dt>Text</dt>
              <dd className="small">{c.message.body}</dd>
            </>
          )}
          <dt>Starts</dt>
          <dd>{formatDateTime(c.startsAt)}</dd>
          <dt>Ends</dt>
          <dd>{c.endsAt ? formatDateTime(c.endsAt) : 'Runs until cancelled'}</dd>
          <dt>Holdout</dt>
          <dd data-testid="campaign-holdout">{formatPercent(c.holdoutShare)} of the segment, at random</dd>
          {c.bonus && (
            <>
              <dt>Budget</dt>
              <dd data-testid="campaign-budget">
                {c.budgetPoints == null ? `No cap · ${formatInteger(c.spentPoints)} points given` : `${formatInteger(c.spentPoints)} of ${formatInteger(c.budgetPoints)} points given`}
              </dd>
            </>
          )}
          <dt>Created</dt>
          <dd>
            {formatDateTime(c.createdAt)} by <ActorName actor={c.createdBy} testId="campaign-created-by" />
          </dd>
          {c.launchedAt && (
            <>
              <dt>Launched</dt>
              <dd>{formatDateTime(c.launchedAt)}</dd>
            </>
          )}
          {c.cancelledAt && (
            <>
              <dt>Cancelled</dt>
              <dd>{formatDateTime(c.cancelledAt)}</dd>
            </>
          )}
        </dl>
        {c.bonus && c.budgetPoints != null && (
          <progress max={c.budgetPoints} value={c.spentPoints} aria-label="Budget spent" />
        )}
      </Card>
      <Card title="Members" testId="campaign-counts">
        {isLaunched ? (
          <>
            <div className="stat-row">
              <Stat label="Treated" value={formatInteger(n.treated)} testId="count-treated" />
              <Stat label="Held out" value={formatInteger(n.holdout)} testId="count-holdout" />
              <Stat label="Contacted" value={formatInteger(n.contacted)} hint={c.status === 'SCHEDULED' ? 'At the start' : undefined} testId="count-contacted" />
              {c.bonus && <Stat label="Got a bonus" value={formatInteger(n.bonused)} testId="count-bonused" />}
            </div>
            {c.message && (
              <p className="muted" data-testid="campaign-messages">
                Messages: {formatInteger(n.messagesSent)} sent, {formatInteger(n.messagesPending)} pending, {formatInteger(n.messagesSkipped)} skipped
                (consent withdrawn), {formatInteger(n.messagesFailed)} failed
              </p>
            )}
          </>
        ) : (
          <p className="empty" data-testid="campaign-not-launched">
            {c.status === 'CANCELLED' ? 'Cancelled before launch' : 'Not launched yet: launching fixes the members and draws the holdout'}
          </p>
        )}
      </Card>
    </div>
  );
}

function CampaignActions({ campaign: c, onChanged }: { campaign: Campaign; onChanged(): void }) {
  const [confirming, setConfirming] = useState<'launch' | 'cancel' | null>(null);
  const [isEditing, setEditing] = useState(false);
  const canCancel = c.status === 'DRAFT' || c.status === 'SCHEDULED' || c.status === 'ACTIVE';
  return (
    <>
      {c.status === 'DRAFT' && (
        <>
          <button type="button" className="secondary" onClick={() => setEditing(true)} data-testid="campaign-edit">
            Edit draft
          </button>
          <button type="button" onClick={() => setConfirming('launch')} data-testid="campaign-launch">
            Launch
          </button>
        </>
      )}
      {canCancel && (
        <button type="button" className="secondary" onClick={() => setConfirming('cancel')} data-testid="campaign-cancel">
          Cancel campaign
        </button>
      )}
      {/* Only drafts change: launching fixes the members, so a launched campaign's set-up is what they got. */}
      <Dialog title="Edit draft" isOpen={isEditing} onClose={() => setEditing(false)} testId="campaign-edit-dialog">
        <CampaignForm
          campaign={c}
          onCancel={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            onChanged();
          }}
        />
      </Dialog>
      <Dialog
        title={confirming === 'launch' ? 'Launch campaign' : 'Cancel campaign'}
        isOpen={confirming !== null}
        onClose={() => setConfirming(null)}
        testId="campaign-confirm-dialog"
      >
        {confirming && (
          <ConfirmForm
            campaign={c}
            action={confirming}
            onCancel={() => setConfirming(null)}
            onDone={() => {
              setConfirming(null);
              onChanged();
            }}
          />
        )}
      </Dialog>
    </>
  );
}

function ConfirmForm({ campaign: c, action, onDone, onCancel }: { campaign: Campaign; action: 'launch' | 'cancel'; onDone(): void; onCancel(): void }) {
  const [launch, launchCampaign] = useMutation(LaunchCampaignDocument);
  const [cancel, cancelCampaign] = useMutation(CancelCampaignDocument);
  const state = action === 'launch' ? launch : cancel;
  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = action === 'launch' ? await launchCampaign({ id: c.id }) : await cancelCampaign({ id: c.id });
    if (!result.error) onDone();
  }
  const isFuture = Date.parse(c.startsAt) > Date.now();
  return (
    <form className="resource-form" onSubmit={submit}>
      {action === 'launch' ? (
        <>
          <p>
            The members of “{c.segment.name}” are fixed now and {formatPercent(c.holdoutShare)} of them are held out at random.{' '}
            {isFuture ? `It starts on ${formatDateTime(c.startsAt)}.` : 'It starts at once: treated members are contacted now.'} A launched
            campaign can no longer be changed.
          </p>
          <LaunchSize campaign={c} />
        </>
      ) : (
        <p>No more bonuses are given and undelivered messages are not sent. This cannot be undone.</p>
      )}
      {state.error && (
        <p className="error" role="alert" data-testid="campaign-action-error">
          {errorMessage(state.error)}
        </p>
      )}
      <FormActions
        submitLabel={action === 'launch' ? 'Launch now' : 'Cancel campaign'}
        busy={state.fetching}
        onCancel={onCancel}
        testId="campaign-confirm"
      />
    </form>
  );
}

/**
 * How many members the launch would fix, and whether the holdout it draws can measure anything: results need at least
 * 2 held-out members, which a small segment or share will not give (4 members at 10% hold out nobody).
 */
function LaunchSize({ campaign: c }: { campaign: Campaign }) {
  const [{ data }] = useQuery({ query: SegmentMemberCountDocument, variables: { id: c.segment.id }, requestPolicy: 'network-only' });
  const count = data?.segment.memberCount;
  if (count == null) return null;
  const expectedHoldout = count * c.holdoutShare;
  const isTooSmall = expectedHoldout < 2;
  return (
    <p className={isTooSmall ? 'notice' : 'muted'} role={isTooSmall ? 'alert' : undefined} data-testid="campaign-launch-size">
      The segment has {formatInteger(count)} {count === 1 ? 'member' : 'members'} now: about {formatInteger(Math.round(expectedHoldout))} held out.
      {isTooSmall &&
        (c.holdoutShare === 0
          ? ' With no holdout, the results cannot measure whether the campaign worked.'
          : ' Results need at least 2 held-out members to measure whether the campaign worked: raise the holdout share or target a larger segment.')}
    </p>
  );
}

function ResultsSection({ campaign }: { campaign: Campaign }) {
  const [{ data, fetching, error }, refetch] = useQuery({ query: CampaignResultsDocument, variables: { id: campaign.id }, requestPolicy: 'cache-and-network' });
  const r = data?.campaign.results;
  return (
    <QueryState
      fetching={fetching}
      error={error}
      hasData={Boolean(data)}
      isEmpty={!r}
      emptyText="Results appear once the campaign has launched and started"
      refetch={refetch}
      loadingText="Computing results…"
      testId="results"
    >
      {r && <Results results={r} status={campaign.status} />}
    </QueryState>
  );
}

function Results({ results: r, status }: { results: Results; status: Campaign['status'] }) {
  const money = (minor: number | null | undefined) => formatMoney(minor == null ? null : Math.round(minor), r.currency);
  // "Not significant" is a finding about intervals: with none (not started, holdout too small, nobody bought) there is none.
  const isEstimated = r.purchaseRateUplift != null || r.revenuePerMemberUplift != null;
  const hasStarted = Date.parse(r.windowEnd) > Date.parse(r.windowStart);
  // A group with no members has no rate or mean: a dash, not 0% and £0.00.
  const ifMembers = (g: GroupRow, text: string) => (g.members === 0 ? dash : text);
  return (
    <div className="card-grid">
      <Card title="Verdict" wide testId="results-verdict">
        <p>
          <span data-testid="results-verdict-badge">
            <Badge tone={r.significant ? 'good' : 'neutral'}>{r.significant ? 'Significant' : isEstimated ? 'Not significant' : 'Not measured'}</Badge>
          </span>{' '}
          <span data-testid="results-verdict-text">{r.verdict}</span>
        </p>
        <p className="muted small" data-testid="results-window">
          {hasStarted
            ? `Window ${formatDateTime(r.windowStart)} – ${formatDateTime(r.windowEnd)}${status === 'ACTIVE' ? ' (so far)' : ''}`
            : `Window opens ${formatDateTime(r.windowStart)}`}{' '}
          · 95% confidence intervals, treated minus holdout
          {r.incrementalBuyers != null && ` · ${formatDecimal(r.incrementalBuyers)} incremental buyers`}
          {r.incrementalRevenueMinor != null && `, ${money(r.incrementalRevenueMinor)} incremental revenue`}
          {/* Point estimates: where the intervals include zero they are no finding, and the line says so. */}
          {!r.significant && (r.incrementalBuyers != null || r.incrementalRevenueMinor != null) && ' (point estimates; the intervals include zero)'}
        </p>
      </Card>
      <Card title="Treated and holdout" wide testId="results-groups">
        <DataTable<GroupRow>
          label="Figures per group"
          rows={[r.treated, r.holdout]}
          rowKey={(g) => g.group}
          rowTestId="results-group-row"
          columns={[
            { header: 'Group', cell: (g) => humanize(g.group) },
            { header: 'Members', numeric: true, cell: (g) => formatInteger(g.members) },
            { header: 'Buyers', numeric: true, cell: (g) => formatInteger(g.buyers) },
            { header: 'Purchase rate', numeric: true, cell: (g) => ifMembers(g, formatPercent(g.purchaseRate)) },
            { header: 'Revenue per member', numeric: true, cell: (g) => ifMembers(g, money(g.revenuePerMemberMinor)) },
            { header: 'Points cost per member', numeric: true, cell: (g) => ifMembers(g, formatDecimal(g.pointsCostPerMember)) },
          ]}
        />
      </Card>
      <UpliftCard
        title="Purchase rate uplift"
        testId="uplift-purchase-rate"
        estimate={r.purchaseRateUplift}
        format={formatRateUplift}
      />
      <UpliftCard
        title="Revenue per member uplift"
        testId="uplift-revenue"
        estimate={r.revenuePerMemberUplift}
        format={(v) => `${v > 0 ? '+' : ''}${money(v)}`}
      />
      <UpliftCard
        title="Points cost per member"
        testId="uplift-points"
        estimate={r.pointsCostPerMemberUplift}
        format={(v) => `${v > 0 ? '+' : ''}${formatDecimal(v)}`}
      />
    </div>
  );
}
