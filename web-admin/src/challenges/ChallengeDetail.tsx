import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { useCurrentAdmin } from '../auth/RequireAuth';
import { ChallengeDocument, SegmentsDocument, UpdateChallengeDocument, type ChallengeQuery } from '../gql/graphql';
import { errorMessage } from '../shared/errors';
import { formatDateTime, humanize } from '../shared/format';
import { can } from '../shared/permissions';
import { Badge, Card, Dialog, PageHeader, QueryState } from '../shared/ui';
import { ChallengeForm } from './ChallengeForm';
import { ChallengeResults } from './ChallengeResults';
import { describeGoal, describeReward, statusTones } from './challenge-format';

type Challenge = ChallengeQuery['challenge'];

/** A challenge: its set-up, editing, pausing and resuming it, and its results against the holdout. */
export function ChallengeDetail() {
  const { id = '' } = useParams();
  const admin = useCurrentAdmin();
  const [isEditing, setEditing] = useState(false);
  const [{ data, fetching, error }, refetch] = useQuery({ query: ChallengeDocument, variables: { id } });
  const reload = () => refetch({ requestPolicy: 'network-only' });
  const c = data?.challenge;

  return (
    <section className="page" aria-label="Challenge">
      <p className="breadcrumb">
        <Link to="/challenges">← Challenges</Link>
      </p>
      <PageHeader
        title={c?.name ?? 'Challenge'}
        summary={
          c && (
            <span data-testid="challenge-status">
              <Badge tone={statusTones[c.status]}>{humanize(c.status)}</Badge>
            </span>
          )
        }
        actions={
          c &&
          can(admin, 'challenges:manage') && (
            <>
              <button type="button" className="secondary" onClick={() => setEditing(true)} data-testid="challenge-edit">
                Edit
              </button>
              <ActiveToggle challenge={c} onChanged={reload} />
            </>
          )
        }
      />
      <QueryState fetching={fetching} error={error} hasData={Boolean(c)} retry={reload} loadingText="Loading challenge…" testId="challenge">
        {c && (
          <div className="card-grid">
            <SetUp challenge={c} />
            <ChallengeResults challenge={c} />
          </div>
        )}
      </QueryState>
      {c && (
        <Dialog title="Edit challenge" isOpen={isEditing} onClose={() => setEditing(false)} testId="challenge-edit-dialog">
          <ChallengeForm
            challenge={c}
            // Progress (in the audience or the holdout) fixes what it depends on; the API checks again when saving.
            isLocked={c.results.joined + c.results.holdoutMembers > 0}
            onCancel={() => setEditing(false)}
            onSaved={() => {
              setEditing(false);
              reload();
            }}
          />
        </Dialog>
      )}
    </section>
  );
}

function ActiveToggle({ challenge: c, onChanged }: { challenge: Challenge; onChanged(): void }) {
  const [{ fetching, error }, update] = useMutation(UpdateChallengeDocument);
  async function toggle() {
    const result = await update({ input: { id: c.id, isActive: !c.isActive } });
    if (!result.error) onChanged();
  }
  return (
    <>
      <button type="button" className={c.isActive ? 'secondary' : undefined} disabled={fetching} onClick={toggle} data-testid="challenge-toggle">
        {c.isActive ? 'Pause' : 'Activate'}
      </button>
      {error && (
        <p className="error" role="alert">
          {errorMessage(error)}
        </p>
      )}
    </>
  );
}

function SetUp({ challenge: c }: { challenge: Challenge }) {
  const [segments] = useQuery({ query: SegmentsDocument, pause: !c.audienceSegmentId });
  const segment = segments.data?.segments.find((s) => s.id === c.audienceSegmentId);
  return (
    <Card title="Set-up" testId="challenge-setup">
      <dl className="facts">
        <dt>Code</dt>
        <dd>
          <code>{c.code}</code>
        </dd>
        {c.description && (
          <>
            <dt>Description</dt>
            <dd>{c.description}</dd>
          </>
        )}
        <dt>Goal</dt>
        <dd data-testid="challenge-goal-text">{describeGoal(c)}</dd>
        <dt>Reward</dt>
        <dd data-testid="challenge-reward-text">{describeReward(c)}</dd>
        <dt>Audience</dt>
        <dd data-testid="challenge-audience-text">
          {c.audienceSegmentId ? `${segment?.name ?? 'A saved segment'} (checked when a member first qualifies)` : 'Everyone'}
        </dd>
        <dt>Window</dt>
        <dd>
          {formatDateTime(c.startsAt)} – {formatDateTime(c.endsAt)}
        </dd>
        <dt>Holdout</dt>
        <dd>{c.holdoutPercent}% of the audience, tracked but never rewarded</dd>
        <dt>Created</dt>
        <dd>{formatDateTime(c.createdAt)}</dd>
      </dl>
    </Card>
  );
}
