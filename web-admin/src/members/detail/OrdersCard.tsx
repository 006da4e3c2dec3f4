import { useQuery } from 'urql';
import { MemberOrdersDocument, type MemberOrdersQuery } from '../../gql/graphql';
import { dash, formatDateTime, formatDelta, formatInteger, formatMoney, humanize } from '../../shared/format';
import { Card, DataTable, QueryState } from '../../shared/ui';
import { channelLabels } from '../member-format';

type OrderRow = MemberOrdersQuery['member']['orders']['edges'][number]['node'];

export function OrdersCard({ memberId }: { memberId: string }) {
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
        refetch={refetch}
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
