import { useMemo, useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery, type CombinedError } from 'urql';
import { MemberActivitiesCard } from '../activities';
import { useCurrentAdmin } from '../auth/RequireAuth';
import {
  AdjustPointsDocument,
  MemberDetailDocument,
  MemberFeedbackDocument,
  MemberLedgerDocument,
  MemberOrdersDocument,
  MemberRecommendationsDocument,
  MemberTimelineDocument,
  type MemberDetailQuery,
  type MemberFeedbackQuery,
  type MemberLedgerQuery,
  type MemberOrdersQuery,
  type MemberRecommendationsQuery,
  type MemberTimelineQuery,
} from '../gql/graphql';
import { Chart } from '../shared/Chart';
import { errorMessage, fieldErrorMap } from '../shared/errors';
import {
  dash,
  formatDate,
  formatDateTime,
  formatDecimal,
  formatDelta,
  formatInteger,
  formatMoney,
  formatPercent,
  humanize,
} from '../shared/format';
import { can } from '../shared/permissions';
import { Badge, Card, DataTable, Dialog, Field, PageHeader, QueryState, Stat, type Tone } from '../shared/ui';
import { channelLabels, memberName, statusLabels } from './member-format';
import { MemberChallengesCard } from '../challenges/MemberChallengesCard';
import { EditProfileForm } from './EditProfileForm';
import { MemberActions } from './MemberActions';
import { PredictedValueCard } from './PredictedValueCard';
import { MemberVouchersCard } from '../service';

type Member = MemberDetailQuery['member'];
type LedgerRow = MemberLedgerQuery['member']['ledger']['edges'][number]['node'];
type OrderRow = MemberOrdersQuery['member']['orders']['edges'][number]['node'];
type RecommendationRow = MemberRecommendationsQuery['member']['recommendations'][number];
type FeedbackRow = MemberFeedbackQuery['member']['feedback']['edges'][number]['node'];
type TimelineEntry = MemberTimelineQuery['member']['timeline']['edges'][number]['node'];

const ledgerPage = 20;
const maxLedgerRows = 100;

const bandTones: Record<string, Tone> = { LOW: 'good', MEDIUM: 'warn', HIGH: 'bad' };

/** Member 360: everything about one member on one page, each section loading on its own. */
export function MemberDetail() {
  const { id = '' } = useParams();
  const admin = useCurrentAdmin();
  const withPii = can(admin, 'members:pii');
  const [detail, refetchDetail] = useQuery({ query: MemberDetailDocument, variables: { id, withPii } });
  const member = detail.data?.member;
  const title = member ? (withPii && (memberName(member) || member.email || member.phone)) || `Member ${member.id.slice(0, 8)}` : 'Member';

  return (
    <section className="page" aria-label="Member">
      <p className="breadcrumb">
        <Link to="/members">← Members</Link>
      </p>
      <PageHeader
        title={title}
        summary={member && <Badge tone={member.status === 'ACTIVE' ? 'good' : 'neutral'}>{statusLabels[member.status]}</Badge>}
        actions={member && <MemberActions member={member} onChanged={() => refetchDetail({ requestPolicy: 'network-only' })} />}
      />
      <QueryState
        fetching={detail.fetching}
        error={detail.error}
        hasData={Boolean(member)}
        retry={() => refetchDetail({ requestPolicy: 'network-only' })}
        loadingText="Loading member…"
        testId="member"
      >
        {member && (
          <MemberSections
            member={member}
            withPii={withPii}
            canAdjust={can(admin, 'points:adjust')}
            // Editing shows the contact details, so it needs them visible (analysts never see them).
            canEdit={member.status === 'ACTIVE' && withPii && can(admin, 'members:write')}
            onChanged={() => refetchDetail({ requestPolicy: 'network-only' })}
          />
        )}
      </QueryState>
    </section>
  );
}

function MemberSections({ member, withPii, canAdjust, canEdit, onChanged }: { member: Member; withPii: boolean; canAdjust: boolean; canEdit: boolean; onChanged(): void }) {
  const [ledgerFirst, setLedgerFirst] = useState(ledgerPage);
  const [ledger, refetchLedger] = useQuery({ query: MemberLedgerDocument, variables: { id: member.id, first: ledgerFirst } });
  const [highlightAfter, setHighlightAfter] = useState<Set<string> | null>(null);
  const ledgerRows = ledger.data?.member.ledger.edges.map((e) => e.node) ?? [];

  return (
    <div className="card-grid">
      <ProfileCard member={member} withPii={withPii} canEdit={canEdit} onChanged={onChanged} />
      <PointsCard
        member={member}
        canAdjust={canAdjust}
        onAdjusted={() => {
          setHighlightAfter(new Set(ledgerRows.map((r) => r.id)));
          refetchLedger({ requestPolicy: 'network-only' });
        }}
      />
      <TierCard member={member} />
      <RiskCard member={member} />
      <PredictedValueCard value={member.predictedValue} />
      <Card title="Ledger" wide testId="member-ledger">
        <QueryState
          fetching={ledger.fetching}
          error={ledger.error}
          hasData={Boolean(ledger.data)}
          isEmpty={ledgerRows.length === 0}
          emptyText="No points movements yet"
          retry={() => refetchLedger({ requestPolicy: 'network-only' })}
          testId="ledger"
        >
          <DataTable<LedgerRow>
            label="Ledger"
            rows={ledgerRows}
            rowKey={(r) => r.id}
            rowTestId="ledger-row"
            rowClassName={(r) => (highlightAfter && !highlightAfter.has(r.id) ? 'is-new' : undefined)}
            columns={[
              { header: 'When', cell: (r) => formatDateTime(r.createdAt) },
              { header: 'Reason', cell: (r) => humanize(r.reason) },
              { header: 'Available', numeric: true, cell: (r) => formatDelta(r.availableDelta) },
              { header: 'Pending', numeric: true, cell: (r) => formatDelta(r.pendingDelta) },
              { header: 'Note', cell: (r) => r.note || dash },
              { header: 'By', cell: (r) => r.actor },
            ]}
          />
          {ledger.data?.member.ledger.pageInfo.hasNextPage && ledgerFirst < maxLedgerRows && (
            <div className="list-page-footer">
              <button
                type="button"
                className="secondary"
                disabled={ledger.fetching}
                onClick={() => setLedgerFirst((n) => Math.min(n + ledgerPage, maxLedgerRows))}
                data-testid="ledger-load-more"
              >
                Load more
              </button>
            </div>
          )}
        </QueryState>
      </Card>
      <TimelineCard memberId={member.id} />
      <OrdersCard memberId={member.id} />
      <MemberActivitiesCard memberId={member.id} />
      <MemberChallengesCard memberId={member.id} />
      <MemberVouchersCard
        memberId={member.id}
        onCancelled={() => {
          // The points came back: the balance and a new ledger row.
          setHighlightAfter(new Set(ledgerRows.map((r) => r.id)));
          refetchLedger({ requestPolicy: 'network-only' });
          onChanged();
        }}
      />
      <RecommendationsCard memberId={member.id} />
      <FeedbackCard memberId={member.id} withPii={withPii} />
    </div>
  );
}

function ProfileCard({ member: m, withPii, canEdit, onChanged }: { member: Member; withPii: boolean; canEdit: boolean; onChanged(): void }) {
  const [isEditing, setEditing] = useState(false);
  return (
    <Card title="Profile and consents" testId="member-profile">
      {canEdit && (
        <>
          <button type="button" className="secondary" onClick={() => setEditing(true)} data-testid="member-profile-edit">
            Edit profile
          </button>
          <Dialog title="Edit profile" isOpen={isEditing} onClose={() => setEditing(false)} testId="member-profile-dialog">
            <EditProfileForm
              member={m}
              onCancel={() => setEditing(false)}
              onSaved={() => {
                setEditing(false);
                onChanged();
              }}
            />
          </Dialog>
        </>
      )}
      <dl className="facts">
        {withPii && (
          <>
            <dt>Email</dt>
            <dd data-testid="member-email">{m.email || dash}</dd>
            <dt>Phone</dt>
            <dd>{m.phone || dash}</dd>
            <dt>Birthday</dt>
            <dd>{m.birthday || dash}</dd>
          </>
        )}
        <dt>Member id</dt>
        <dd className="mono">{m.id}</dd>
        <dt>Country</dt>
        <dd>{m.country || dash}</dd>
        <dt>Enrolled</dt>
        <dd>
          {formatDate(m.enrolledAt)} via {channelLabels[m.enrolmentChannel]}
        </dd>
        <dt>Preferred channel</dt>
        <dd>{m.preferredChannel ? channelLabels[m.preferredChannel] : dash}</dd>
      </dl>
      {!withPii && <p className="notice small">Names and contact details are hidden for the Analyst role.</p>}
      <h3>Consents</h3>
      {m.consents.length === 0 ? (
        <p className="muted">No consent recorded</p>
      ) : (
        <ul className="plain" data-testid="member-consents">
          {m.consents.map((c) => (
            <li key={c.medium}>
              <Badge tone={c.isGranted ? 'good' : 'neutral'}>{c.isGranted ? 'Granted' : 'Withdrawn'}</Badge> {humanize(c.medium)}{' '}
              <span className="muted small">
                {formatDate(c.isGranted ? c.grantedAt : c.withdrawnAt)} · {c.source}
              </span>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

function PointsCard({ member: m, canAdjust, onAdjusted }: { member: Member; canAdjust: boolean; onAdjusted(): void }) {
  const p = m.points;
  return (
    <Card title="Points" testId="member-points">
      <div className="stat-row">
        <Stat label="Available" value={formatInteger(p.available)} testId="points-available" />
        <Stat label="Pending" value={formatInteger(p.pending)} hint="Inside the return window" testId="points-pending" />
        <Stat label="Lifetime" value={formatInteger(p.lifetime)} />
      </div>
      <p className="muted" data-testid="points-next-expiry">
        {p.nextExpiry
          ? `${formatInteger(p.nextExpiry.points)} points expire on ${formatDate(p.nextExpiry.expiresAt)}`
          : 'No points due to expire'}
      </p>
      {canAdjust && <AdjustPointsForm memberId={m.id} onAdjusted={onAdjusted} />}
    </Card>
  );
}

function AdjustPointsForm({ memberId, onAdjusted }: { memberId: string; onAdjusted(): void }) {
  const [{ fetching }, adjust] = useMutation(AdjustPointsDocument);
  const [points, setPoints] = useState('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<CombinedError>();
  const [done, setDone] = useState<string>();
  // One key per intended adjustment: a retry after a network error cannot credit twice.
  const [idempotencyKey, setIdempotencyKey] = useState(() => crypto.randomUUID());
  const fields = fieldErrorMap(error);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setError(undefined);
    setDone(undefined);
    const result = await adjust({ input: { memberId, points: Number(points), reason: reason.trim(), idempotencyKey } });
    if (result.error) {
      setError(result.error);
      return;
    }
    setDone(`Adjusted by ${formatDelta(Number(points))} points`);
    setPoints('');
    setReason('');
    setIdempotencyKey(crypto.randomUUID());
    onAdjusted();
  }

  const formError = error && Object.keys(fields).filter((f) => f !== 'points' && f !== 'reason').length === Object.keys(fields).length;
  return (
    <form className="inline-form" onSubmit={onSubmit} aria-label="Adjust points" data-testid="adjust-points">
      <h3>Adjust points</h3>
      <div className="form-row">
        <Field label="Points" error={fields.points} hint="Negative to remove">
          {(props) => (
            <input {...props} type="number" step={1} required value={points} onChange={(e) => setPoints(e.target.value)} name="points" />
          )}
        </Field>
        <Field label="Reason" error={fields.reason}>
          {(props) => (
            <input {...props} required maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} name="reason" />
          )}
        </Field>
      </div>
      {formError && (
        <p className="error" role="alert" data-testid="adjust-error">
          {errorMessage(error)}
        </p>
      )}
      {done && (
        <p className="success" role="status" data-testid="adjust-done">
          {done}
        </p>
      )}
      <div className="actions">
        <button type="submit" disabled={fetching} aria-busy={fetching} data-testid="adjust-submit">
          Adjust
        </button>
      </div>
    </form>
  );
}

function TierCard({ member: m }: { member: Member }) {
  const t = m.tierProgress;
  const unit = t.metric === 'SPEND_MINOR' ? 'spend' : 'points';
  const format = (value: number) => (t.metric === 'SPEND_MINOR' ? formatMoney(value, 'GBP') : formatInteger(value));
  const target = t.nextTier?.threshold;
  return (
    <Card title="Tier" testId="member-tier">
      <p className="big" data-testid="tier-name">
        {t.tier?.name ?? 'No tier'}
      </p>
      {t.nextTier && target ? (
        <>
          <progress max={target} value={Math.min(t.current, target)} aria-label={`Progress to ${t.nextTier.name}`} />
          <p className="muted" data-testid="tier-progress">
            {format(t.missing ?? 0)} more {unit} to {t.nextTier.name} ({format(t.current)} of {format(target)} in the last{' '}
            {t.windowDays} days)
          </p>
        </>
      ) : (
        <p className="muted">{t.tier ? 'Highest tier reached' : 'No tiers are set up'}</p>
      )}
      {t.retainUntil && <p className="muted small">Kept at least until {formatDate(t.retainUntil)}</p>}
      <p className="muted small">
        Earns {m.benefits.earnMultiplierPercent}% of base points
        {m.benefits.flags.length > 0 && ` · ${m.benefits.flags.map(humanize).join(', ')}`}
      </p>
    </Card>
  );
}

function RiskCard({ member: m }: { member: Member }) {
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

function OrdersCard({ memberId }: { memberId: string }) {
  const [{ data, fetching, error }, refetch] = useQuery({ query: MemberOrdersDocument, variables: { id: memberId, first: 10 } });
  const orders = data?.member.orders.edges.map((e) => e.node) ?? [];
  return (
    <Card title="Orders" wide testId="member-orders">
      <QueryState
        fetching={fetching}
        error={error}
        hasData={Boolean(data)}
        isEmpty={orders.length === 0}
        emptyText="No orders yet"
        retry={() => refetch({ requestPolicy: 'network-only' })}
        testId="orders"
      >
        <DataTable<OrderRow>
          label="Orders"
          rows={orders}
          rowKey={(o) => o.id}
          rowTestId="order-row"
          columns={[
            { header: 'Placed', cell: (o) => formatDateTime(o.placedAt) },
            { header: 'Order', cell: (o) => o.externalOrderId },
            { header: 'Channel', cell: (o) => channelLabels[o.channelKind] },
            { header: 'Status', cell: (o) => humanize(o.status) },
            { header: 'Total', numeric: true, cell: (o) => formatMoney(o.totalMinor, o.currency) },
            { header: 'Returned', numeric: true, cell: (o) => (o.returnedMinor ? formatMoney(o.returnedMinor, o.currency) : dash) },
            {
              header: 'Points',
              cell: (o) => (
                <details>
                  <summary>
                    {formatDelta(o.pointsEarned)}
                    {o.pointsClawedBack ? ` (−${formatInteger(o.pointsClawedBack)} returned)` : ''}
                  </summary>
                  <ul className="plain small">
                    {o.pointsBreakdown.map((b, i) => (
                      <li key={i}>
                        {b.label}: {formatDelta(b.points)}
                      </li>
                    ))}
                  </ul>
                </details>
              ),
            },
          ]}
        />
      </QueryState>
    </Card>
  );
}

function RecommendationsCard({ memberId }: { memberId: string }) {
  const [{ data, fetching, error }, refetch] = useQuery({
    query: MemberRecommendationsDocument,
    variables: { id: memberId, first: 10 },
  });
  const recs = data?.member.recommendations ?? [];
  const versions = [...new Set(recs.map((r) => r.modelVersionId.slice(0, 8)))];
  return (
    <Card
      title="Recommendations"
      wide
      testId="member-recommendations"
      actions={versions.length > 0 && <span className="muted small">Model {versions.join(', ')}</span>}
    >
      <QueryState
        fetching={fetching}
        error={error}
        hasData={Boolean(data)}
        isEmpty={recs.length === 0}
        emptyText="No recommendations: no recommender model is active"
        retry={() => refetch({ requestPolicy: 'network-only' })}
        testId="recommendations"
      >
        <DataTable<RecommendationRow>
          label="Recommendations"
          rows={recs}
          rowKey={(r) => `${r.rank}`}
          rowTestId="recommendation-row"
          columns={[
            { header: '#', numeric: true, cell: (r) => r.rank },
            { header: 'Product', cell: (r) => `${r.product.name} (${r.product.sku})` },
            { header: 'Why', cell: (r) => r.reason },
            {
              header: 'Kind',
              cell: (r) => (r.isColdStart ? <Badge>Popular</Badge> : r.isRepeat ? <Badge tone="info">Bought before</Badge> : <Badge tone="good">New to them</Badge>),
            },
            { header: 'Score', numeric: true, cell: (r) => formatDecimal(r.score) },
          ]}
        />
      </QueryState>
    </Card>
  );
}

const npsTones: Record<string, Tone> = { PROMOTER: 'good', PASSIVE: 'warn', DETRACTOR: 'bad' };

function FeedbackCard({ memberId, withPii }: { memberId: string; withPii: boolean }) {
  const [{ data, fetching, error }, refetch] = useQuery({ query: MemberFeedbackDocument, variables: { id: memberId, first: 10, withPii } });
  const answers = data?.member.feedback.edges.map((e) => e.node) ?? [];
  return (
    <Card title="Feedback" wide testId="member-feedback">
      <QueryState
        fetching={fetching}
        error={error}
        hasData={Boolean(data)}
        isEmpty={answers.length === 0}
        emptyText="No NPS or CSAT answers yet"
        retry={() => refetch({ requestPolicy: 'network-only' })}
        testId="feedback"
      >
        <DataTable<FeedbackRow>
          label="NPS and CSAT answers"
          rows={answers}
          rowKey={(f) => f.id}
          rowTestId="feedback-row"
          columns={[
            { header: 'Given', cell: (f) => formatDateTime(f.givenAt) },
            {
              header: 'Score',
              cell: (f) =>
                f.kind === 'NPS' ? (
                  <>
                    NPS {f.score}/10 {f.npsCategory && <Badge tone={npsTones[f.npsCategory]}>{humanize(f.npsCategory)}</Badge>}
                  </>
                ) : (
                  `CSAT ${f.score}/5`
                ),
            },
            {
              header: 'About',
              cell: (f) =>
                f.orderId ? `An order (${channelLabels[f.channelKind]})` : f.storeCode ? `Store ${f.storeCode}` : channelLabels[f.channelKind],
            },
            ...(withPii ? [{ header: 'Comment', cell: (f: FeedbackRow) => f.comment || dash }] : []),
          ]}
        />
        {!withPii && <p className="notice small">Comments are hidden for the Analyst role.</p>}
      </QueryState>
    </Card>
  );
}

const timelinePage = 15;
const maxTimelineEntries = 150;
const timelineTones: Record<string, Tone> = {
  ORDER: 'info',
  LEDGER: 'neutral',
  REDEMPTION: 'warn',
  TIER_CHANGE: 'good',
  FEEDBACK: 'info',
  CAMPAIGN_CONTACT: 'good',
  MESSAGE: 'neutral',
};

/** What happened to the member, newest first: one line per order, ledger row, redemption, tier change or answer. */
function TimelineCard({ memberId }: { memberId: string }) {
  const [first, setFirst] = useState(timelinePage);
  const [{ data, fetching, error }, refetch] = useQuery({ query: MemberTimelineDocument, variables: { id: memberId, first } });
  const entries = data?.member.timeline.edges ?? [];
  return (
    <Card title="Timeline" wide testId="member-timeline">
      <QueryState
        fetching={fetching && !data}
        error={error}
        hasData={Boolean(data)}
        isEmpty={entries.length === 0}
        emptyText="Nothing has happened yet"
        retry={() => refetch({ requestPolicy: 'network-only' })}
        testId="timeline"
      >
        <ol className="timeline">
          {entries.map(({ cursor, node: entry }) => (
            <li key={cursor} data-testid="timeline-entry">
              <time dateTime={entry.occurredAt} className="muted small">
                {formatDateTime(entry.occurredAt)}
              </time>
              <Badge tone={timelineTones[entry.type]}>{humanize(entry.type)}</Badge>
              <span>{describeTimelineEntry(entry)}</span>
            </li>
          ))}
        </ol>
        {data?.member.timeline.pageInfo.hasNextPage && first < maxTimelineEntries && (
          <div className="list-page-footer">
            <button
              type="button"
              className="secondary"
              disabled={fetching}
              onClick={() => setFirst((n) => Math.min(n + timelinePage, maxTimelineEntries))}
              data-testid="timeline-load-more"
            >
              Load more
            </button>
          </div>
        )}
      </QueryState>
    </Card>
  );
}

function describeTimelineEntry(entry: TimelineEntry): string {
  const n = entry.node;
  switch (n.__typename) {
    case 'Order':
      return `Order ${n.externalOrderId} for ${formatMoney(n.totalMinor, n.currency)} via ${channelLabels[n.channelKind]}, ${formatDelta(n.pointsEarned)} points`;
    case 'LedgerEntry': {
      const delta = n.availableDelta !== 0 ? `${formatDelta(n.availableDelta)} available` : `${formatDelta(n.pendingDelta)} pending`;
      return `${humanize(n.reason)}: ${delta}${n.note ? ` (${n.note})` : ''}`;
    }
    case 'Redemption':
      return `Redeemed ${n.reward.name} for ${formatInteger(n.points)} points (${humanize(n.status).toLowerCase()})`;
    case 'TierChange':
      return `${n.fromTier ? `${n.fromTier} → ` : ''}${n.toTier} (${humanize(n.changeReason).toLowerCase()})`;
    case 'Feedback':
      return `${n.kind} ${n.score}${n.kind === 'NPS' ? '/10' : '/5'}${n.npsCategory ? `, ${humanize(n.npsCategory).toLowerCase()}` : ''}`;
    case 'CampaignMember':
      return n.group === 'HOLDOUT'
        ? 'Held out of a campaign (control group)'
        : `Reached by a campaign${n.bonusPoints ? `, ${formatDelta(n.bonusPoints)} bonus points so far` : ''}`;
    case 'CampaignMessage':
      return `${humanize(n.medium)} from a campaign${n.subject ? `: “${n.subject}”` : ''} (${humanize(n.messageStatus).toLowerCase()})`;
    default:
      // Entries a plugin adds describe themselves.
      return entry.summary ?? humanize(entry.type);
  }
}
