import { useMemo, useState } from 'react';
import { useQuery, type CombinedError } from 'urql';
import { MembersDocument, type ChurnBand, type MemberEdge, type MembersVariables, type ValueBand } from './members.operations';

const pageSize = 20;

interface Filters {
  search: string | null;
  /** Bands of the active churn and value models (null: any member, scored or not). */
  churnBand: ChurnBand | null;
  valueBand: ValueBand | null;
  withPii: boolean;
}

interface LoadedPages {
  filtersKey: string;
  after: string | null;
  /** Edges of the pages before `after`, in order. */
  earlier: MemberEdge[];
  totalCount: number | undefined;
}

export interface MemberPages {
  edges: MemberEdge[];
  totalCount: number | undefined;
  hasNextPage: boolean;
  isLoading: boolean;
  isLoadingMore: boolean;
  isRefreshing: boolean;
  error: CombinedError | undefined;
  loadMore(): void;
  retry(): void;
}

/**
 * Cursor pagination for the Members query: "load more" appends the next page to the rows loaded so far.
 * Changing the filters starts again from the first page.
 */
export function useMemberPages({ search, churnBand, valueBand, withPii }: Filters): MemberPages {
  const filtersKey = JSON.stringify([search, churnBand, valueBand, withPii]);
  const [stored, setStored] = useState<LoadedPages>(() => firstPage(filtersKey));
  const pages = stored.filtersKey === filtersKey ? stored : firstPage(filtersKey);

  const variables = useMemo<MembersVariables>(
    () => ({ first: pageSize, after: pages.after, search, churnBand, valueBand, withPii }),
    [pages.after, search, churnBand, valueBand, withPii],
  );
  const [result, reexecute] = useQuery({
    query: MembersDocument,
    variables,
    requestPolicy: 'cache-and-network',
  });

  // While the next request is in flight urql still returns the previous one's data; ignore it.
  const answered = result.operation?.variables;
  const current =
    answered &&
    answered.after === variables.after &&
    answered.search === variables.search &&
    answered.churnBand === variables.churnBand &&
    answered.valueBand === variables.valueBand &&
    answered.withPii === variables.withPii
      ? result.data?.members
      : undefined;
  const error = result.fetching ? undefined : result.error;
  // Until a new search answers, keep showing the previous search's first page (marked busy) rather than a blank.
  const previous =
    !current && !error && pages.after === null && answered?.after == null ? result.data?.members : undefined;
  const shown = current ?? previous;

  const edges = shown ? uniqueById([...pages.earlier, ...shown.edges]) : pages.earlier;
  const isWaiting = !shown && !error;

  return {
    edges,
    totalCount: shown?.totalCount ?? pages.totalCount,
    hasNextPage: Boolean(current?.pageInfo.hasNextPage && current.pageInfo.endCursor),
    isLoading: isWaiting && pages.after === null,
    isLoadingMore: isWaiting && pages.after !== null,
    isRefreshing: Boolean(previous || (current && result.stale)),
    error,
    loadMore() {
      if (!current?.pageInfo.endCursor) return;
      setStored({ filtersKey, after: current.pageInfo.endCursor, earlier: edges, totalCount: current.totalCount });
    },
    retry() {
      reexecute({ requestPolicy: 'network-only' });
    },
  };
}

function firstPage(filtersKey: string): LoadedPages {
  return { filtersKey, after: null, earlier: [], totalCount: undefined };
}

// A member can move between pages if rows change while paging; show it once.
function uniqueById(edges: MemberEdge[]): MemberEdge[] {
  const seen = new Set<string>();
  return edges.filter((edge) => !seen.has(edge.node.id) && seen.add(edge.node.id));
}
