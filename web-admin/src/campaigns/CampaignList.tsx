import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useQuery } from 'urql';
import { useCurrentAdmin } from '../auth/RequireAuth';
import { CampaignsDocument, type CampaignFieldsFragment, type CampaignStatus } from '../gql/graphql';
import { dash, formatDateTime, formatInteger, formatPercent, humanize } from '../shared/format';
import { can } from '../shared/permissions';
import { Badge, DataTable, Dialog, PageHeader, QueryState } from '../shared/ui';
import { CampaignForm } from './CampaignForm';
import { describeAction, statusTones } from './campaign-format';

const statuses: CampaignStatus[] = ['DRAFT', 'SCHEDULED', 'ACTIVE', 'ENDED', 'CANCELLED'];

export function CampaignList() {
  const admin = useCurrentAdmin();
  const navigate = useNavigate();
  const canManage = can(admin, 'campaigns:manage');
  const [status, setStatus] = useState<CampaignStatus | ''>('');
  const [isCreating, setCreating] = useState(false);
  const [{ data, fetching, error }, refetch] = useQuery({ query: CampaignsDocument, variables: { first: 50, status: status || null } });
  const rows = data?.campaigns.edges.map((e) => e.node);

  return (
    <section className="page" aria-label="Campaigns">
      <PageHeader
        title="Campaigns"
        summary={data && `${formatInteger(data.campaigns.totalCount)} ${data.campaigns.totalCount === 1 ? 'campaign' : 'campaigns'}`}
        actions={
          <div className="filters">
            <label>
              <span className="sr-only">Status</span>
              <select value={status} onChange={(e) => setStatus(e.target.value as CampaignStatus | '')} data-testid="campaign-status-filter">
                <option value="">All statuses</option>
                {statuses.map((s) => (
                  <option key={s} value={s}>
                    {humanize(s)}
                  </option>
                ))}
              </select>
            </label>
            {canManage && (
              <button type="button" onClick={() => setCreating(true)} data-testid="campaign-new">
                New campaign
              </button>
            )}
          </div>
        }
      />
      {!canManage && <p className="notice small">Your role can read campaigns and their results but not change them.</p>}
      <QueryState
        fetching={fetching}
        error={error}
        hasData={Boolean(data)}
        isEmpty={rows?.length === 0}
        emptyText={status ? `No ${humanize(status).toLowerCase()} campaigns` : 'No campaigns yet'}
        refetch={refetch}
        testId="campaigns"
      >
        <DataTable<CampaignFieldsFragment>
          label="Campaigns"
          rows={rows ?? []}
          rowKey={(c) => c.id}
          rowTestId="campaign-row"
          columns={[
            {
              header: 'Name',
              cell: (c) => (
                <Link to={`/campaigns/${c.id}`} data-testid="campaign-link">
                  {c.name}
                </Link>
              ),
            },
            { header: 'Status', cell: (c) => <Badge tone={statusTones[c.status]}>{humanize(c.status)}</Badge> },
            { header: 'Segment', cell: (c) => c.segment.name },
            { header: 'Action', cell: (c) => describeAction(c) },
            { header: 'Window', cell: (c) => `${formatDateTime(c.startsAt)} – ${c.endsAt ? formatDateTime(c.endsAt) : 'open'}` },
            { header: 'Holdout', numeric: true, cell: (c) => formatPercent(c.holdoutShare) },
            { header: 'Members', numeric: true, cell: (c) => (c.treatedCount == null ? dash : formatInteger(c.treatedCount + (c.holdoutCount ?? 0))) },
          ]}
        />
      </QueryState>
      <Dialog title="New campaign" isOpen={isCreating} onClose={() => setCreating(false)} testId="campaign-dialog">
        <CampaignForm onCancel={() => setCreating(false)} onSaved={(c) => navigate(`/campaigns/${c.id}`)} />
      </Dialog>
    </section>
  );
}
