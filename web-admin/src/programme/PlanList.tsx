import { useMutation, useQuery } from 'urql';
import {
  MembershipPlansDocument,
  UpsertMembershipPlanDocument,
  type MembershipPlanFieldsFragment,
  type UpsertMembershipPlanInput,
} from '../gql/graphql';
import { formatInteger, formatMoney, humanize } from '../shared/format';
import { ResourcePage, type FormField } from '../shared/ResourcePage';
import { Badge } from '../shared/ui';

const fields: FormField[] = [
  { name: 'code', label: 'Code', kind: 'text', required: true, isKey: true },
  { name: 'name', label: 'Name', kind: 'text', required: true },
  { name: 'feeMinor', label: 'Fee (minor units)', kind: 'int', required: true, hint: 'e.g. 999 = £9.99' },
  { name: 'currency', label: 'Currency', kind: 'text', required: true, hint: 'ISO 4217, e.g. GBP' },
  { name: 'durationDays', label: 'Duration (days)', kind: 'int', required: true },
  { name: 'earnMultiplierPercent', label: 'Earn multiplier %', kind: 'int', required: true },
  { name: 'benefitFlags', label: 'Benefit flags', kind: 'list', required: true, hint: 'Comma-separated' },
  { name: 'isActive', label: 'Active', kind: 'checkbox' },
];

export function PlanList() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: MembershipPlansDocument });
  const [, upsert] = useMutation(UpsertMembershipPlanDocument);
  return (
    <ResourcePage<MembershipPlanFieldsFragment>
      title="Membership plans"
      singular="plan"
      testId="plans"
      rows={data?.membershipPlans}
      fetching={fetching}
      error={error}
      refetch={refetch}
      rowKey={(r) => r.id}
      managePermission="programme:manage"
      emptyText="No paid plans yet"
      fields={fields}
      save={async (input) => (await upsert({ input: input as UpsertMembershipPlanInput })).error}
      columns={[
        { header: 'Code', cell: (r) => <span className="mono">{r.code}</span> },
        { header: 'Name', cell: (r) => r.name },
        { header: 'Fee', numeric: true, cell: (r) => formatMoney(r.feeMinor, r.currency) },
        { header: 'Duration', numeric: true, cell: (r) => `${formatInteger(r.durationDays)} days` },
        { header: 'Earn multiplier', numeric: true, cell: (r) => `${r.earnMultiplierPercent}%` },
        { header: 'Benefits', cell: (r) => r.benefitFlags.map(humanize).join(', ') || '—' },
        { header: 'Status', cell: (r) => <Badge tone={r.isActive ? 'good' : 'neutral'}>{r.isActive ? 'Active' : 'Inactive'}</Badge> },
      ]}
    />
  );
}
