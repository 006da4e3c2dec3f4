import { useQuery } from 'urql';
import { MemberRecommendationsDocument, type MemberRecommendationsQuery } from '../../gql/graphql';
import { formatDecimal } from '../../shared/format';
import { Badge, Card, DataTable, QueryState } from '../../shared/ui';

type RecommendationRow = MemberRecommendationsQuery['member']['recommendations'][number];

export function RecommendationsCard({ memberId }: { memberId: string }) {
  const [{ data, fetching, error }, refetch] = useQuery({
    query: MemberRecommendationsDocument,
    variables: { id: memberId, first: 10 },
  });
  const recs = data?.member.recommendations ?? [];
  const versions = [...new Set(recs.map((r) => r.modelVersionId.slice(0, 8)))];
  return (
    <Card
      title="Recommendations"
      wide
      testId="member-recommendations"
      actions={versions.length > 0 && <span className="muted small">Model {versions.join(', ')}</span>}
    >
      <QueryState
        fetching={fetching}
        error={error}
        hasData={Boolean(data)}
        isEmpty={recs.length === 0}
        emptyText="No recommendations: no recommender model is active"
        refetch={refetch}
        testId="recommendations"
      >
        <DataTable<RecommendationRow>
          label="Recommendations"
          rows={recs}
          rowKey={(r) => `${r.rank}`}
          rowTestId="recommendation-row"
          columns={[
            { header: '#', numeric: true, cell: (r) => r.rank },
            { header: 'Product', cell: (r) => `${r.product.name} (${r.product.sku})` },
            { header: 'Why', cell: (r) => r.reason },
            {
              header: 'Kind',
              cell: (r) => (r.isColdStart ? <Badge>Popular</Badge> : r.isRepeat ? <Badge tone="info">Bought before</Badge> : <Badge tone="good">New to them</Badge>),
            },
            { header: 'Score', numeric: true, cell: (r) => formatDecimal(r.score) },
          ]}
        />
      </QueryState>
    </Card>
  );
}
