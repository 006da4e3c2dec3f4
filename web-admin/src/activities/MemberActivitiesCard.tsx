import { useState } from 'react';
import { useQuery } from 'urql';
import { MemberActivitiesDocument, type MemberActivitiesQuery } from '../gql/graphql';
import { dash, formatDateTime, formatDelta, humanize } from '../shared/format';
import { Badge, Card, DataTable, QueryState, type Tone } from '../shared/ui';

type ActivityRow = MemberActivitiesQuery['member']['activities']['nodes'][number];

const pageSize = 10;
const maxRows = 100;

/** The member 360's activities (activities plugin): what they did, and what it earned or why not. */
export function MemberActivitiesCard({ memberId }: { memberId: string }) {
  const [first, setFirst] = useState(pageSize);
  const [{ data, fetching, error }, refetch] = useQuery({ query: MemberActivitiesDocument, variables: { id: memberId, first } });
  const page = data?.member.activities;
  const rows = page?.nodes ?? [];
  return (
    <Card title="Activities" wide testId="member-activities">
      <QueryState
        fetching={fetching && !data}
        error={error}
        hasData={Boolean(data)}
        isEmpty={rows.length === 0}
        emptyText="No activities recorded"
        refetch={refetch}
        testId="activities"
      >
        <DataTable<ActivityRow>
          label="Activities"
          rows={rows}
          rowKey={(a) => a.id}
          rowTestId="activity-row"
          columns={[
            { header: 'When', cell: (a) => formatDateTime(a.occurredAt) },
            { header: 'Type', cell: (a) => <span className="mono">{a.type}</span> },
            { header: 'Channel', cell: (a) => (a.channelKind ? humanize(a.channelKind) : 'Admin') },
            { header: 'Outcome', cell: (a) => <Badge tone={outcomeTone(a.outcome)}>{humanize(a.outcome)}</Badge> },
            { header: 'Points', numeric: true, cell: (a) => (a.points ? formatDelta(a.points) : dash) },
          ]}
        />
        {page?.hasNextPage && first < maxRows && (
          <div className="list-page-footer">
            <button type="button" className="secondary" disabled={fetching} onClick={() => setFirst((n) => Math.min(n + pageSize, maxRows))} data-testid="activities-load-more">
              Load more
            </button>
          </div>
        )}
      </QueryState>
    </Card>
  );
}

const outcomeTone = (outcome: string): Tone => (outcome === 'CREDITED' ? 'good' : outcome === 'NOT_ELIGIBLE' ? 'neutral' : outcome === 'NO_POINTS' ? 'info' : 'warn');
