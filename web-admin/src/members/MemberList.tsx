import { useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { useCurrentAdmin } from '../auth/RequireAuth';
import { errorMessage } from '../shared/errors';
import { ListPage } from '../shared/ListPage';
import { useDebouncedValue } from '../shared/use-debounced-value';
import { channelLabels, formatDate, memberCount, memberName, statusLabels } from './member-format';
import { canSeeMemberPii, type ChurnBand, type MemberListItem, type ValueBand } from './members.operations';
import { useMemberPages } from './use-member-pages';

const searchDelayMs = 300;
const empty = '—';
const bands = ['HIGH', 'MEDIUM', 'LOW'] as const;
const bandLabels = { HIGH: 'High', MEDIUM: 'Medium', LOW: 'Low' } as const;

interface Column {
  header: string;
  isPii: boolean;
  cell(member: MemberListItem): ReactNode;
}

const columns: Column[] = [
  {
    header: 'Name',
    isPii: true,
    cell: (m) => (
      <Link to={`/members/${m.id}`} data-testid="member-link">
        {memberName(m) || m.email || 'Open'}
      </Link>
    ),
  },
  {
    header: 'Member',
    isPii: false,
    cell: (m) => (
      <Link to={`/members/${m.id}`} data-testid="member-link">
        {m.id.slice(0, 8)}
      </Link>
    ),
  },
  { header: 'Email', isPii: true, cell: (m) => m.email || empty },
  { header: 'Phone', isPii: true, cell: (m) => m.phone || empty },
  { header: 'Country', isPii: false, cell: (m) => m.country || empty },
  { header: 'Channel', isPii: false, cell: (m) => channelLabels[m.enrolmentChannel] ?? m.enrolmentChannel },
  {
    header: 'Enrolled',
    isPii: false,
    cell: (m) => <time dateTime={m.enrolledAt}>{formatDate(m.enrolledAt)}</time>,
  },
  {
    header: 'Status',
    isPii: false,
    cell: (m) => (
      <span className={`badge status-${m.status.toLowerCase()}`}>{statusLabels[m.status] ?? m.status}</span>
    ),
  },
];

export function MemberList() {
  const admin = useCurrentAdmin();
  const withPii = canSeeMemberPii(admin);
  // Analysts get an id link instead of the name link.
  const visibleColumns = withPii
    ? columns.filter((column) => column.header !== 'Member')
    : columns.filter((column) => !column.isPii);

  const [searchInput, setSearchInput] = useState('');
  const debouncedSearch = useDebouncedValue(searchInput.trim(), searchDelayMs);
  const search = (withPii && debouncedSearch) || null;
  // Bands of the active models: whom to keep (high churn risk) and what they are worth (high predicted value).
  const [churnBand, setChurnBand] = useState<ChurnBand | null>(null);
  const [valueBand, setValueBand] = useState<ValueBand | null>(null);
  const pages = useMemberPages({ search, churnBand, valueBand, withPii });

  return (
    <ListPage
      title="Members"
      summary={
        pages.totalCount === undefined ? null : (
          <span data-testid="member-count">{memberCount(pages.totalCount)}</span>
        )
      }
      // Searching matches names and contact details, which analysts may not read.
      toolbar={
        <>
          {withPii && (
            <input
              type="search"
              aria-label="Search members"
              placeholder="Search by name or email"
              value={searchInput}
              onChange={(event) => setSearchInput(event.target.value)}
              data-testid="member-search"
            />
          )}
          <BandFilter label="Churn risk" value={churnBand} onChange={setChurnBand} testId="member-churn-band" />
          <BandFilter label="Predicted value" value={valueBand} onChange={setValueBand} testId="member-value-band" />
        </>
      }
    >
      {!withPii && (
        <p className="notice" data-testid="pii-hidden">
          Names and contact details are hidden for the Analyst role.
        </p>
      )}

      {pages.edges.length > 0 && (
        <div className="table-wrap">
          <table aria-label="Members" aria-busy={pages.isRefreshing || pages.isLoadingMore} data-testid="member-table">
            <thead>
              <tr>
                {visibleColumns.map((column) => (
                  <th key={column.header} scope="col">
                    {column.header}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {pages.edges.map(({ node }) => (
                <tr key={node.id} data-testid="member-row" data-member-id={node.id}>
                  {visibleColumns.map((column) => (
                    <td key={column.header}>{column.cell(node)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {pages.isLoading && (
        <p className="muted" role="status" data-testid="members-loading">
          Loading members…
        </p>
      )}

      {!pages.isLoading && !pages.error && pages.edges.length === 0 && (
        <p className="empty" data-testid="members-empty">
          No members match
        </p>
      )}

      {pages.error && (
        <div className="error-box" role="alert" data-testid="members-error">
          <p>{errorMessage(pages.error)}</p>
          <button type="button" className="secondary" onClick={pages.retry} data-testid="members-retry">
            Retry
          </button>
        </div>
      )}

      <div className="list-page-footer">
        {pages.isLoadingMore && (
          <p className="muted" role="status" data-testid="members-loading-more">
            Loading more members…
          </p>
        )}
        {pages.hasNextPage && (
          <button type="button" className="secondary" onClick={pages.loadMore} data-testid="member-load-more">
            Load more
          </button>
        )}
      </div>
    </ListPage>
  );
}

/** A band of the active model's scores, or any member (scored or not). */
function BandFilter<B extends (typeof bands)[number]>(props: {
  label: string;
  value: B | null;
  onChange(band: B | null): void;
  testId: string;
}) {
  return (
    <label className="inline-field">
      {props.label}{' '}
      <select
        value={props.value ?? ''}
        onChange={(event) => props.onChange((event.target.value || null) as B | null)}
        data-testid={props.testId}
      >
        <option value="">Any</option>
        {bands.map((band) => (
          <option key={band} value={band}>
            {bandLabels[band]}
          </option>
        ))}
      </select>
    </label>
  );
}
