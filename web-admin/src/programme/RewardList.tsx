import { useMutation, useQuery } from 'urql';
import { RewardKindsDocument, RewardsDocument, UpsertRewardDocument, type RewardFieldsFragment, type UpsertRewardInput } from '../gql/graphql';
import { formatDate, formatInteger, formatMoney, humanize } from '../shared/format';
import { ResourcePage, type FormField } from '../shared/ResourcePage';
import { Badge } from '../shared/ui';

/** Until the API has answered; then the kinds come from it, plugins' included. */
const builtInKinds: readonly string[] = ['FIXED_DISCOUNT', 'PERCENT_DISCOUNT', 'FREE_PRODUCT', 'PARTNER', 'DONATION'];

/** The built-in kinds in the form's usual order (the first is the default), then the plugins' as the API lists them. */
const orderedKinds = (fromApi: string[] | undefined): readonly string[] =>
  fromApi ? [...builtInKinds.filter((k) => fromApi.includes(k)), ...fromApi.filter((k) => !builtInKinds.includes(k))] : builtInKinds;

const formFields = (kinds: readonly string[]): FormField[] => [
  { name: 'code', label: 'Code', kind: 'text', required: true, isKey: true },
  { name: 'name', label: 'Name', kind: 'text', required: true },
  { name: 'kind', label: 'Kind', kind: 'select', options: kinds, required: true },
  { name: 'costPoints', label: 'Cost (points)', kind: 'int', required: true },
  { name: 'valueMinor', label: 'Value (minor units)', kind: 'int', hint: 'Fixed discount: amount off, e.g. 500 = £5' },
  { name: 'currency', label: 'Currency', kind: 'text', hint: 'Fixed discount, e.g. GBP' },
  { name: 'percentOff', label: 'Percent off', kind: 'int', hint: 'Percent discount: 1–100' },
  { name: 'sku', label: 'SKU', kind: 'text', hint: 'Free product' },
  { name: 'partner', label: 'Partner', kind: 'text', hint: 'Partner or donation: who receives it' },
  { name: 'stock', label: 'Stock', kind: 'int', hint: 'Empty: unlimited' },
  { name: 'perMemberLimit', label: 'Per-member limit', kind: 'int' },
  { name: 'tierCodes', label: 'Tiers allowed', kind: 'list', required: true, hint: 'Comma-separated tier codes; empty for everyone' },
  { name: 'validFrom', label: 'Valid from (UTC)', kind: 'datetime' },
  { name: 'validTo', label: 'Valid to (UTC)', kind: 'datetime' },
  { name: 'isActive', label: 'Active', kind: 'checkbox' },
];

export function RewardList() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: RewardsDocument });
  const [kindsResult] = useQuery({ query: RewardKindsDocument });
  const kinds = orderedKinds(kindsResult.data?.rewardKinds.map((k) => k.kind));
  const [, upsert] = useMutation(UpsertRewardDocument);
  return (
    <ResourcePage<RewardFieldsFragment>
      title="Rewards"
      singular="reward"
      testId="rewards"
      rows={data?.rewards}
      fetching={fetching}
      error={error}
      refetch={refetch}
      rowKey={(r) => r.id}
      managePermission="rewards:manage"
      emptyText="No rewards yet"
      fields={formFields(kinds)}
      save={async (input) => (await upsert({ input: input as UpsertRewardInput })).error}
      columns={[
        { header: 'Code', cell: (r) => <span className="mono">{r.code}</span> },
        { header: 'Name', cell: (r) => r.name },
        { header: 'Kind', cell: (r) => humanize(r.kind) },
        { header: 'Cost', numeric: true, cell: (r) => formatInteger(r.costPoints) },
        {
          header: 'Value',
          cell: (r) =>
            r.kind === 'FIXED_DISCOUNT' ? formatMoney(r.valueMinor, r.currency) : r.kind === 'PERCENT_DISCOUNT' ? `${r.percentOff}%` : r.sku ?? r.partner ?? '—',
        },
        { header: 'Stock', numeric: true, cell: (r) => (r.stock == null ? 'Unlimited' : formatInteger(r.stock)) },
        { header: 'Redeemed', numeric: true, cell: (r) => formatInteger(r.redeemedCount) },
        { header: 'Valid', cell: (r) => (r.validFrom || r.validTo ? `${formatDate(r.validFrom)} – ${formatDate(r.validTo)}` : 'Always') },
        { header: 'Status', cell: (r) => <Badge tone={r.isActive ? 'good' : 'neutral'}>{r.isActive ? 'Active' : 'Inactive'}</Badge> },
      ]}
    />
  );
}
