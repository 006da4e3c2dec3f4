import { useQuery } from 'urql';
import { MemberFeedbackDocument, type MemberFeedbackQuery } from '../../gql/graphql';
import { dash, formatDateTime, humanize } from '../../shared/format';
import { Badge, Card, DataTable, QueryState, type Tone } from '../../shared/ui';
import { channelLabels } from '../member-format';

type FeedbackRow = MemberFeedbackQuery['member']['feedback']['edges'][number]['node'];

const npsTones: Record<string, Tone> = { PROMOTER: 'good', PASSIVE: 'warn', DETRACTOR: 'bad' };

export function FeedbackCard({ memberId, withPii }: { memberId: string; withPii: boolean }) {
  const [{ data, fetching, error }, refetch] = useQuery({ query: MemberFeedbackDocument, variables: { id: memberId, first: 10, withPii } });
  const answers = data?.member.feedback.edges.map((e) => e.node) ?? [];
  return (
    <Card title="Feedback" wide testId="member-feedback">
      <QueryState
        fetching={fetching}
        error={error}
        hasData={Boolean(data)}
        isEmpty={answers.length === 0}
        emptyText="No NPS or CSAT answers yet"
        refetch={refetch}
        testId="feedback"
      >
        <DataTable<FeedbackRow>
          label="NPS and CSAT answers"
          rows={answers}
          rowKey={(f) => f.id}
          rowTestId="feedback-row"
          columns={[
            { header: 'Given', cell: (f) => formatDateTime(f.givenAt) },
            {
              header: 'Score',
              cell: (f) =>
                f.kind === 'NPS' ? (
                  <>
                    NPS {f.score}/10 {f.npsCategory && <Badge tone={npsTones[f.npsCategory]}>{humanize(f.npsCategory)}</Badge>}
                  </>
                ) : (
                  `CSAT ${f.score}/5`
                ),
            },
            {
              header: 'About',
              cell: (f) =>
                f.orderId ? `An order (${channelLabels[f.channelKind]})` : f.storeCode ? `Store ${f.storeCode}` : channelLabels[f.channelKind],
            },
            ...(withPii ? [{ header: 'Comment', cell: (f: FeedbackRow) => f.comment || dash }] : []),
          ]}
        />
        {!withPii && <p className="notice small">Comments are hidden for the Analyst role.</p>}
      </QueryState>
    </Card>
  );
}
