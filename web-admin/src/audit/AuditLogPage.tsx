import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useClient, useQuery, type CombinedError } from 'urql';
import { AuditLogDocument, type AuditEntryFieldsFragment, type AuditLogQueryVariables } from '../gql/graphql';
import { ActorName, useActorDirectory } from '../shared/ActorName';
import { errorMessage } from '../shared/errors';
import { formatDateTimeSeconds, localDateTimeInput, shortId } from '../shared/format';
import { ownValue } from '../shared/lookup';
import { DataTable, PageHeader, QueryState } from '../shared/ui';

const pageSize = 50;
const filterNames = ['actor', 'entityType', 'entityId', 'action', 'since', 'until'] as const;
type FilterName = (typeof filterNames)[number];
type Filters = Record<FilterName, string>;

/** The entity types the core audits, offered as suggestions; any other (a plugin's) can be typed. */
const entityTypes = ['Member', 'ApiKey', 'SalesChannel', 'Webhook', 'AdminUser', 'Campaign', 'Segment', 'EarningRule', 'Reward', 'Tier', 'MembershipPlan', 'ProgrammeSettings', 'ModelVersion', 'ModelJob'];

/** Pages of the admin app that show one record, by audited entity type. */
const entityLinks: Record<string, (id: string) => string> = {
  Member: (id) => `/members/${id}`,
  Campaign: (id) => `/campaigns/${id}`,
  Webhook: (id) => `/operations/webhooks/${id}`,
};

/** Who changed what and when, filtered by actor, entity, action and time; the filters live in the URL, so a view can be shared. */
export function AuditLogPage() {
  const [params, setParams] = useSearchParams();
  const applied = Object.fromEntries(filterNames.map((n) => [n, params.get(n) ?? ''])) as Filters;
  const variables: AuditLogQueryVariables = { ...Object.fromEntries(filterNames.map((n) => [n, applied[n] || null])), first: pageSize };
  const [{ data, fetching, error }, refetch] = useQuery({ query: AuditLogDocument, variables, requestPolicy: 'cache-and-network' });
  const actors = useActorDirectory();
  const client = useClient();
  const filtersKey = params.toString();
  const [more, setMore] = useState<{ key: string; rows: AuditEntryFieldsFragment[]; isDone: boolean }>({ key: '', rows: [], isDone: false });
  const [moreError, setMoreError] = useState<CombinedError>();
  const [isLoadingMore, setLoadingMore] = useState(false);
  const loaded = more.key === filtersKey ? more : { key: filtersKey, rows: [], isDone: false };
  const rows = data ? [...data.auditLog, ...loaded.rows] : undefined;
  const hasMore = data && data.auditLog.length === pageSize && !loaded.isDone;

  async function loadMore() {
    if (!rows?.length) return;
    setLoadingMore(true);
    const result = await client.query(AuditLogDocument, { ...variables, olderThan: rows.at(-1)!.id }, { requestPolicy: 'network-only' }).toPromise();
    setLoadingMore(false);
    setMoreError(result.error);
    if (result.data) setMore({ key: filtersKey, rows: [...loaded.rows, ...result.data.auditLog], isDone: result.data.auditLog.length < pageSize });
  }

  return (
    <section className="page" aria-label="Audit log">
      <PageHeader title="Audit log" summary="Every change by an admin, an API key or the system, with the state before and after; newest first." />
      <AuditFilters
        key={filtersKey}
        applied={applied}
        actors={actors?.admins ?? []}
        onApply={(next) => setParams(Object.fromEntries(Object.entries(next).filter(([, v]) => v)))}
      />
      <QueryState
        fetching={fetching}
        error={error}
        hasData={Boolean(data)}
        isEmpty={rows?.length === 0}
        emptyText="No entries match these filters"
        refetch={refetch}
        testId="audit"
      >
        <DataTable<AuditEntryFieldsFragment>
          label="Audit entries"
          rows={rows ?? []}
          rowKey={(e) => e.id}
          rowTestId="audit-row"
          columns={[
            { header: 'When', cell: (e) => <time dateTime={e.createdAt}>{formatDateTimeSeconds(e.createdAt)}</time> },
            {
              header: 'Actor',
              cell: (e) => (
                <Link to={`?actor=${encodeURIComponent(e.actor)}`} data-testid="audit-actor">
                  <ActorName actor={e.actor} />
                </Link>
              ),
            },
            { header: 'Action', cell: (e) => <span className="mono">{e.action}</span> },
            {
              header: 'Entity',
              cell: (e) => {
                const linkTo = ownValue(entityLinks, e.entityType);
                return (
                  <span data-testid="audit-entity">
                    {e.entityType}{' '}
                    {linkTo ? (
                      <Link to={linkTo(e.entityId)} className="mono small">
                        {shortId(e.entityId)}
                      </Link>
                    ) : (
                      <span className="mono small" title={e.entityId}>
                        {shortId(e.entityId)}
                      </span>
                    )}
                  </span>
                );
              },
            },
            { header: 'Change', cell: (e) => <Change entry={e} /> },
          ]}
        />
        {hasMore && (
          <div className="list-page-footer">
            <button type="button" className="secondary" onClick={() => void loadMore()} disabled={isLoadingMore} data-testid="audit-more">
              {isLoadingMore ? 'Loading…' : 'Older entries'}
            </button>
          </div>
        )}
        {moreError && (
          <p className="error" role="alert">
            {errorMessage(moreError)}
          </p>
        )}
      </QueryState>
    </section>
  );
}

function Change({ entry: e }: { entry: AuditEntryFieldsFragment }) {
  if (e.before == null && e.after == null) return <span className="muted">—</span>;
  return (
    <details className="audit-change">
      <summary>Before and after</summary>
      {e.before != null && (
        <>
          <span className="small muted">Before</span>
          <pre>{JSON.stringify(e.before, null, 2)}</pre>
        </>
      )}
      {e.after != null && (
        <>
          <span className="small muted">After</span>
          <pre>{JSON.stringify(e.after, null, 2)}</pre>
        </>
      )}
      {e.requestId && <span className="small muted">Request {e.requestId}</span>}
    </details>
  );
}

interface FiltersProps {
  applied: Filters;
  actors: { id: string; email: string }[];
  onApply(filters: Filters): void;
}

const specialActors = [
  { value: 'system', label: 'System (scheduled jobs)' },
  { value: 'import', label: 'Transaction import' },
];

function AuditFilters({ applied, actors, onApply }: FiltersProps) {
  const [values, setValues] = useState<Filters>(() => ({ ...applied, since: applied.since && localDateTimeInput(applied.since), until: applied.until && localDateTimeInput(applied.until) }));
  const [isOtherActor, setOtherActor] = useState(
    () => applied.actor !== '' && !applied.actor.startsWith('admin:') && !specialActors.some((a) => a.value === applied.actor),
  );
  const set = (name: FilterName, value: string) => setValues((v) => ({ ...v, [name]: value }));
  const toIso = (local: string) => (local ? new Date(local).toISOString() : '');

  function submit(event: FormEvent) {
    event.preventDefault();
    onApply({ ...values, actor: values.actor.trim(), entityId: values.entityId.trim(), action: values.action.trim(), since: toIso(values.since), until: toIso(values.until) });
  }

  return (
    <form className="audit-filters" onSubmit={submit} role="search" aria-label="Audit filters" data-testid="audit-filters">
      <FilterField label="Actor">
        {(id) => (
          <select
            id={id}
            value={isOtherActor ? 'other' : values.actor}
            onChange={(e) => {
              setOtherActor(e.target.value === 'other');
              set('actor', e.target.value === 'other' ? '' : e.target.value);
            }}
          >
            <option value="">Anyone</option>
            {actors.map((a) => (
              <option key={a.id} value={`admin:${a.id}`}>
                {a.email}
              </option>
            ))}
            {specialActors.map((a) => (
              <option key={a.value} value={a.value}>
                {a.label}
              </option>
            ))}
            <option value="other">An API key or other…</option>
          </select>
        )}
      </FilterField>
      {isOtherActor && (
        <FilterField label="Actor reference">
          {(id) => <input id={id} value={values.actor} placeholder="apiKey:<id>" onChange={(e) => set('actor', e.target.value)} />}
        </FilterField>
      )}
      <FilterField label="Entity type">
        {(id) => (
          <>
            <input id={id} list={`${id}-types`} value={values.entityType} onChange={(e) => set('entityType', e.target.value)} />
            <datalist id={`${id}-types`}>
              {entityTypes.map((t) => (
                <option key={t} value={t} />
              ))}
            </datalist>
          </>
        )}
      </FilterField>
      <FilterField label="Entity id">{(id) => <input id={id} value={values.entityId} onChange={(e) => set('entityId', e.target.value)} />}</FilterField>
      <FilterField label="Action">
        {(id) => <input id={id} value={values.action} placeholder="e.g. apiKey.rotate" onChange={(e) => set('action', e.target.value)} />}
      </FilterField>
      <FilterField label="From">
        {(id) => <input id={id} type="datetime-local" value={values.since} onChange={(e) => set('since', e.target.value)} />}
      </FilterField>
      <FilterField label="Until">
        {(id) => <input id={id} type="datetime-local" value={values.until} onChange={(e) => set('until', e.target.value)} />}
      </FilterField>
      <div className="actions">
        <button type="submit" data-testid="audit-apply">
          Apply
        </button>
        <button type="button" className="secondary" onClick={() => onApply({ actor: '', entityType: '', entityId: '', action: '', since: '', until: '' })}>
          Clear
        </button>
      </div>
    </form>
  );
}

function FilterField({ label, children }: { label: string; children(id: string): ReactNode }) {
  const id = useId();
  return (
    <div className="audit-filter">
      <label htmlFor={id}>{label}</label>
      {children(id)}
    </div>
  );
}
