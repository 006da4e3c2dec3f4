import { useQuery } from 'urql';
import { useCurrentAdmin } from '../auth/RequireAuth';
import { MemberVouchersDocument, type VoucherFieldsFragment } from '../gql/graphql';
import { dash, formatDateTime, formatInteger, humanize } from '../shared/format';
import { can } from '../shared/permissions';
import { Badge, Card, DataTable, QueryState } from '../shared/ui';
import { CancelVoucher, voucherTones } from './CancelVoucher';

type Row = VoucherFieldsFragment;

/** The API's default page of a member's redemptions; older ones are found by their code. */
const shown = 50;

/**
 * Member 360: the rewards a member redeemed or was granted, newest first, so a service agent answering "where is my
 * voucher" sees its code and state, and can cancel an unused one (its points go back to the member).
 */
export function MemberVouchersCard({ memberId, onCancelled }: { memberId: string; onCancelled(): void }) {
  const admin = useCurrentAdmin();
  const canCancel = can(admin, 'rewards:redeem');
  const [{ data, fetching, error }, refetch] = useQuery({ query: MemberVouchersDocument, variables: { id: memberId, first: shown } });
  const rows = data?.member.redemptions ?? [];
  return (
    <Card title="Rewards and vouchers" wide testId="member-vouchers">
      <QueryState
        fetching={fetching}
        error={error}
        hasData={Boolean(data)}
        isEmpty={rows.length === 0}
        emptyText="No rewards redeemed or granted yet"
        refetch={refetch}
        testId="vouchers"
      >
        <DataTable<Row>
          label="Rewards and vouchers"
          rows={rows}
          rowKey={(r) => r.id}
          rowTestId="member-voucher-row"
          columns={[
            { header: 'Issued', cell: (r) => formatDateTime(r.createdAt) },
            { header: 'Reward', cell: (r) => r.reward.name },
            { header: 'Paid', cell: (r) => (r.grantedBy ? `Granted (${r.grantedBy})` : `${formatInteger(r.points)} points`) },
            // Null for donations, and for roles that may not redeem (the API withholds it).
            { header: 'Code', cell: (r) => <span className="mono">{r.voucherCode ?? dash}</span> },
            { header: 'Status', cell: (r) => <Badge tone={voucherTones[r.status]}>{humanize(r.status)}</Badge> },
            { header: 'Details', cell: (r) => details(r) },
            {
              header: 'Actions',
              cell: (r) =>
                r.status === 'ISSUED' && canCancel ? (
                  <CancelVoucher
                    redemptionId={r.id}
                    points={r.grantedBy ? null : r.points}
                    onCancelled={() => {
                      refetch({ requestPolicy: 'network-only' });
                      onCancelled();
                    }}
                  />
                ) : (
                  dash
                ),
            },
          ]}
        />
        {rows.length === shown && (
          <p className="muted small" data-testid="vouchers-more">
            The {shown} newest; find an older voucher by its code under Operations → Voucher lookup.
          </p>
        )}
      </QueryState>
    </Card>
  );
}

function details(r: Row): string {
  if (r.consumedAt) return `Used ${formatDateTime(r.consumedAt)}${r.consumedOrderRef ? ` on order ${r.consumedOrderRef}` : ''}`;
  if (r.cancelledAt) return `Cancelled ${formatDateTime(r.cancelledAt)}${r.grantedBy ? '' : ', points returned'}`;
  if (r.expiresAt) return `${r.status === 'EXPIRED' ? 'Expired' : 'Expires'} ${formatDateTime(r.expiresAt)}`;
  return 'Does not expire';
}
