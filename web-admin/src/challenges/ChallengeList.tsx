import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useQuery } from 'urql';
import { useCurrentAdmin } from '../auth/RequireAuth';
import { ChallengesDocument, type ChallengeFieldsFragment } from '../gql/graphql';
import { formatDateTime, formatInteger, humanize } from '../shared/format';
import { can } from '../shared/permissions';
import { Badge, DataTable, Dialog, PageHeader, QueryState } from '../shared/ui';
import { ChallengeForm } from './ChallengeForm';
import { describeGoal, describeReward, statusTones } from './challenge-format';

/** Every challenge, latest start first, and the builder for a new one. */
export function ChallengeList() {
  const admin = useCurrentAdmin();
  const navigate = useNavigate();
  const canManage = can(admin, 'challenges:manage');
  const [isCreating, setCreating] = useState(false);
  const [{ data, fetching, error }, refetch] = useQuery({ query: ChallengesDocument });
  const rows = data?.challenges;

  return (
    <section className="page" aria-label="Challenges">
      <PageHeader
        title="Challenges"
        summary={rows && `${formatInteger(rows.length)} ${rows.length === 1 ? 'challenge' : 'challenges'}`}
        actions={
          canManage && (
            <button type="button" onClick={() => setCreating(true)} data-testid="challenge-new">
              New challenge
            </button>
          )
        }
      />
      {!canManage && <p className="notice small">Your role can read challenges and their results but not change them.</p>}
      <QueryState
        fetching={fetching}
        error={error}
        hasData={Boolean(data)}
        isEmpty={rows?.length === 0}
        emptyText="No challenges yet"
        refetch={refetch}
        testId="challenges"
      >
        <DataTable<ChallengeFieldsFragment>
          label="Challenges"
          rows={rows ?? []}
          rowKey={(c) => c.id}
          rowTestId="challenge-row"
          columns={[
            {
              header: 'Name',
              cell: (c) => (
                <Link to={`/challenges/${c.id}`} data-testid="challenge-link">
                  {c.name}
                </Link>
              ),
            },
            { header: 'Status', cell: (c) => <Badge tone={statusTones[c.status]}>{humanize(c.status)}</Badge> },
            { header: 'Goal', cell: (c) => describeGoal(c) },
            { header: 'Reward', cell: (c) => describeReward(c) },
            { header: 'Window', cell: (c) => `${formatDateTime(c.startsAt)} – ${formatDateTime(c.endsAt)}` },
            { header: 'Holdout', numeric: true, cell: (c) => `${c.holdoutPercent}%` },
          ]}
        />
      </QueryState>
      <Dialog title="New challenge" isOpen={isCreating} onClose={() => setCreating(false)} testId="challenge-dialog">
        <ChallengeForm onCancel={() => setCreating(false)} onSaved={(c) => navigate(`/challenges/${c.id}`)} />
      </Dialog>
    </section>
  );
}
