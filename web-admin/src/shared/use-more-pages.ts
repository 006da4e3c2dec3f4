import { useState } from 'react';
import { useClient, useQuery, type AnyVariables, type CombinedError, type TypedDocumentNode } from 'urql';

interface Connection<N> {
  edges: { node: N }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export interface MorePages<N> {
  /** Undefined until the first page answers. */
  nodes: N[] | undefined;
  fetching: boolean;
  error: CombinedError | undefined;
  hasMore: boolean;
  isLoadingMore: boolean;
  loadMore(): void;
  retry(): void;
}

/**
 * A connection query page by page: the first page through urql, each next one appended by "load more" (with `after`).
 * Changing the variables starts again from the first page.
 */
export function useMorePages<D, V extends AnyVariables & { after?: string | null }, N>(
  query: TypedDocumentNode<D, V>,
  variables: V,
  select: (data: D) => Connection<N>,
): MorePages<N> {
  const client = useClient();
  const key = JSON.stringify(variables);
  const [{ data, fetching, error }, refetch] = useQuery({ query, variables, requestPolicy: 'cache-and-network' });
  const [more, setMore] = useState<{ key: string; nodes: N[]; endCursor: string | null; hasNextPage: boolean } | null>(null);
  const [moreError, setMoreError] = useState<CombinedError>();
  const [isLoadingMore, setLoadingMore] = useState(false);
  const first = data ? select(data) : undefined;
  const extra = more?.key === key ? more : null;
  const nodes = first ? [...first.edges.map((e) => e.node), ...(extra?.nodes ?? [])] : undefined;
  const pageInfo = extra ?? first?.pageInfo;

  return {
    nodes,
    fetching,
    error: error ?? moreError,
    hasMore: Boolean(pageInfo?.hasNextPage && pageInfo.endCursor),
    isLoadingMore,
    async loadMore() {
      if (!pageInfo?.endCursor) return;
      setLoadingMore(true);
      const result = await client.query(query, { ...variables, after: pageInfo.endCursor }, { requestPolicy: 'network-only' }).toPromise();
      setLoadingMore(false);
      setMoreError(result.error);
      if (!result.data) return;
      const page = select(result.data);
      setMore({ key, nodes: [...(extra?.nodes ?? []), ...page.edges.map((e) => e.node)], ...page.pageInfo });
    },
    retry: () => refetch({ requestPolicy: 'network-only' }),
  };
}
