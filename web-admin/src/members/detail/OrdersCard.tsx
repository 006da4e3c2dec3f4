import { useState } from 'react';
import { useQuery } from 'urql';
import { MemberOrdersDocument, type MemberOrdersQuery } from '../../gql/graphql';
import { dash, formatDateTime, formatDelta, formatInteger, formatMoney, humanize } from '../../shared/format';
import { Card, DataTable, QueryState } from '../../shared/ui';
import { channelLabels } from '../member-format';

type OrderRow = MemberOrdersQuery['member']['orders']['edges'][number]['node'];

const ordersPage = 10;

interface LoadedPages {
  memberId: string;
  /** The cursor of the page asked for now; null for the first. */
  after: string | null;
  /** The rows of the pages before it, in order. */
  earlier: OrderRow[];
  totalCount: number;
}

/** The member's orders, newest placedAt first; "Load more" asks for the page after the last one's cursor and appends it. */
export function OrdersCard({ memberId }: { memberId: string }) {
  const [stored, setStored] = useState<LoadedPages>({ memberId, after: null, earlier: [], totalCount: 0 });
  const pages = stored.memberId === memberId ? stored : { memberId, after: null, earlier: [], totalCount: 0 };
  const [{ data, fetching, error, operation }, refetch] = useQuery({
    query: MemberOrdersDocument,
    variables: { id: memberId, first: ordersPage, after: pages.after },
  });
  // While the next page is in flight urql still holds the previous one: show the pages already loaded until it answers.
  const current = operation?.variables.id === memberId && (operation.variables.after ?? null) === pages.after ? data?.member.orders : undefined;
  const orders = [...pages.earlier, ...(current?.edges.map((e) => e.node) ?? [])];
  const next = current?.pageInfo.hasNextPage ? current.pageInfo.endCursor : null;
  const isLoadingMore = pages.after !== null && !current && !error;
  return (
    <Card title="Orders" wide testId="member-orders">
      <QueryState
        fetching={fetching}
        error={error}
        hasData={Boolean(current) || pages.earlier.length > 0}
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
        {(next || isLoadingMore) && (
          <div className="list-page-footer">
            <span className="muted small" data-testid="orders-shown">
              {formatInteger(orders.length)} of {formatInteger(current?.totalCount ?? pages.totalCount)}
            </span>
            <button
              type="button"
              className="secondary"
              disabled={isLoadingMore}
              onClick={() => current && next && setStored({ memberId, after: next, earlier: orders, totalCount: current.totalCount })}
              data-testid="orders-load-more"
            >
              {isLoadingMore ? 'Loading…' : 'Load more'}
            </button>
          </div>
        )}
      </QueryState>
    </Card>
  );
}
