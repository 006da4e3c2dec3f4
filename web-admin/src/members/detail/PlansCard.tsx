import { useMutation, useQuery } from 'urql';
import { CancelMemberPlanDocument, MemberPlansDocument, type MemberPlansQuery } from '../../gql/graphql';
import { dash, formatDate, formatMoney } from '../../shared/format';
import { Badge, Card, ConfirmAction, DataTable, QueryState, type Tone } from '../../shared/ui';

type Row = MemberPlansQuery['member']['plans'][number];
type State = 'Running' | 'Starts later' | 'Ended' | 'Cancelled';

const tones: Record<State, Tone> = { Running: 'good', 'Starts later': 'info', Ended: 'neutral', Cancelled: 'warn' };

function stateOf(p: Row, now: number): State {
  if (p.cancelledAt) return 'Cancelled';
  if (Date.parse(p.endsAt) <= now) return 'Ended';
  return Date.parse(p.startsAt) > now ? 'Starts later' : 'Running';
}

/**
 * Member 360: the member's paid plans, newest first, with what each gives; a running or renewed one can be cancelled
 * (its benefits stop at once; the fee was paid in the channel and is refunded there, not here).
 */
export function PlansCard({ memberId, canCancel, onChanged }: { memberId: string; canCancel: boolean; onChanged(): void }) {
  const [{ data, fetching, error }, refetch] = useQuery({ query: MemberPlansDocument, variables: { id: memberId } });
  const rows = data?.member.plans ?? [];
  const now = Date.now();
  return (
    <Card title="Paid plans" wide testId="member-plans">
      <QueryState
        fetching={fetching}
        error={error}
        hasData={Boolean(data)}
        isEmpty={rows.length === 0}
        emptyText="No paid plans"
        refetch={refetch}
        testId="plans"
      >
        <DataTable<Row>
          label="Paid plans"
          rows={rows}
          rowKey={(p) => p.id}
          rowTestId="member-plan-row"
          columns={[
            { header: 'Plan', cell: (p) => p.plan.name },
            { header: 'Fee', numeric: true, cell: (p) => formatMoney(p.plan.feeMinor, p.plan.currency) },
            { header: 'Earns', numeric: true, cell: (p) => `${p.plan.earnMultiplierPercent}%` },
            { header: 'From', cell: (p) => formatDate(p.startsAt) },
            { header: 'Until', cell: (p) => formatDate(p.endsAt) },
            { header: 'Status', cell: (p) => <Badge tone={tones[stateOf(p, now)]}>{stateOf(p, now)}</Badge> },
            {
              header: 'Actions',
              cell: (p) => {
                const state = stateOf(p, now);
                return canCancel && (state === 'Running' || state === 'Starts later') ? (
                  <CancelPlan
                    memberPlanId={p.id}
                    onCancelled={() => {
                      refetch({ requestPolicy: 'network-only' });
                      onChanged();
                    }}
                  />
                ) : (
                  dash
                );
              },
            },
          ]}
        />
      </QueryState>
    </Card>
  );
}

function CancelPlan({ memberPlanId, onCancelled }: { memberPlanId: string; onCancelled(): void }) {
  const [{ fetching, error }, cancel] = useMutation(CancelMemberPlanDocument);
  async function confirm() {
    const result = await cancel({ input: { memberPlanId } });
    if (!result.error) onCancelled();
  }
  return (
    <ConfirmAction
      label="Cancel the plan"
      warning="Its benefits stop now; refund the fee in the channel it was paid in."
      busy={fetching}
      error={error}
      onConfirm={() => void confirm()}
      testId="plan-cancel"
    />
  );
}
