import { useEffect, useRef, useState } from 'react';
import { useQuery } from 'urql';
import { MemberLedgerDocument, type MemberLedgerQuery } from '../../gql/graphql';
import { ActorName } from '../../shared/ActorName';
import { dash, formatDateTime, formatDelta, humanize } from '../../shared/format';
import { Card, DataTable, QueryState } from '../../shared/ui';

type LedgerRow = MemberLedgerQuery['member']['ledger']['edges'][number]['node'];

const ledgerPage = 20;
const maxLedgerRows = 100;

/**
 * The member's ledger, newest first, loading more on demand. Each time `reloads` goes up (points adjusted, a voucher
 * cancelled) it reads the ledger again and highlights the rows that were not there before.
 */
export function LedgerCard({ memberId, reloads }: { memberId: string; reloads: number }) {
  const [first, setFirst] = useState(ledgerPage);
  const [ledger, refetch] = useQuery({ query: MemberLedgerDocument, variables: { id: memberId, first } });
  const [highlightAfter, setHighlightAfter] = useState<Set<string> | null>(null);
  const rows = ledger.data?.member.ledger.edges.map((e) => e.node) ?? [];
  // Read in the effect below, which must run only when `reloads` changes (refetch changes with the page size).
  const latest = useRef({ ids: [] as string[], refetch });
  latest.current = { ids: rows.map((r) => r.id), refetch };

  useEffect(() => {
    if (reloads === 0) return;
    setHighlightAfter(new Set(latest.current.ids));
    latest.current.refetch({ requestPolicy: 'network-only' });
  }, [reloads]);

  return (
    <Card title="Ledger" wide testId="member-ledger">
      <QueryState
        fetching={ledger.fetching}
        error={ledger.error}
        hasData={Boolean(ledger.data)}
        isEmpty={rows.length === 0}
        emptyText="No points movements yet"
        refetch={refetch}
        testId="ledger"
      >
        <DataTable<LedgerRow>
          label="Ledger"
          rows={rows}
          rowKey={(r) => r.id}
          rowTestId="ledger-row"
          rowClassName={(r) => (highlightAfter && !highlightAfter.has(r.id) ? 'is-new' : undefined)}
          columns={[
            { header: 'When', cell: (r) => formatDateTime(r.createdAt) },
            { header: 'Reason', cell: (r) => humanize(r.reason) },
            { header: 'Available', numeric: true, cell: (r) => formatDelta(r.availableDelta) },
            { header: 'Pending', numeric: true, cell: (r) => formatDelta(r.pendingDelta) },
            { header: 'Note', cell: (r) => r.note || dash },
            { header: 'By', cell: (r) => <ActorName actor={r.actor} /> },
          ]}
        />
        {ledger.data?.member.ledger.pageInfo.hasNextPage && first < maxLedgerRows && (
          <div className="list-page-footer">
            <button
              type="button"
              className="secondary"
              disabled={ledger.fetching}
              onClick={() => setFirst((n) => Math.min(n + ledgerPage, maxLedgerRows))}
              data-testid="ledger-load-more"
            >
              Load more
            </button>
          </div>
        )}
      </QueryState>
    </Card>
  );
}
