import { useMutation, useQuery } from 'urql';
import { TiersDocument, UpsertTierDocument, type TierFieldsFragment, type UpsertTierInput } from '../gql/graphql';
import { formatInteger, humanize } from '../shared/format';
import { ResourcePage, type FormField } from '../shared/ResourcePage';

const fields: FormField[] = [
  { name: 'code', label: 'Code', kind: 'text', required: true, isKey: true },
  { name: 'name', label: 'Name', kind: 'text', required: true },
  { name: 'threshold', label: 'Threshold', kind: 'int', required: true, hint: 'Points earned (or spend) in the window to qualify' },
  { name: 'earnMultiplierPercent', label: 'Earn multiplier %', kind: 'int', required: true, hint: '150 earns base points × 1.5' },
  { name: 'benefitFlags', label: 'Benefit flags', kind: 'list', required: true, hint: 'Comma-separated, e.g. FREE_DELIVERY' },
];

export function TierList() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: TiersDocument });
  const [, upsert] = useMutation(UpsertTierDocument);
  return (
    <ResourcePage<TierFieldsFragment>
      title="Tiers"
      singular="tier"
      testId="tiers"
      rows={data?.tiers}
      fetching={fetching}
      error={error}
      refetch={refetch}
      rowKey={(r) => r.id}
      managePermission="programme:manage"
      emptyText="No tiers yet"
      fields={fields}
      save={async (input) => (await upsert({ input: input as UpsertTierInput })).error}
      columns={[
        { header: 'Code', cell: (r) => <span className="mono">{r.code}</span> },
        { header: 'Name', cell: (r) => r.name },
        { header: 'Threshold', numeric: true, cell: (r) => formatInteger(r.threshold) },
        { header: 'Earn multiplier', numeric: true, cell: (r) => `${r.earnMultiplierPercent}%` },
        { header: 'Benefits', cell: (r) => r.benefitFlags.map(humanize).join(', ') || '—' },
      ]}
    />
  );
}
