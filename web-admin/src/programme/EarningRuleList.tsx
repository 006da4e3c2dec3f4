import { useMutation, useQuery } from 'urql';
import {
  CreateEarningRuleDocument,
  EarningRulesDocument,
  UpdateEarningRuleDocument,
  type EarningRuleFieldsFragment,
  type EarningRuleInput,
} from '../gql/graphql';
import { channelLabels } from '../members/member-format';
import { formatDate, humanize } from '../shared/format';
import { ResourcePage, type FormField } from '../shared/ResourcePage';
import { Badge } from '../shared/ui';

const kinds = ['BASE_RATE', 'BONUS', 'CATEGORY_MULTIPLIER', 'PRODUCT_MULTIPLIER', 'CHANNEL_MULTIPLIER', 'ORDER_CAP', 'DAILY_CAP'] as const;

const fields: FormField[] = [
  { name: 'name', label: 'Name', kind: 'text', required: true },
  { name: 'kind', label: 'Kind', kind: 'select', options: kinds, required: true },
  { name: 'priority', label: 'Priority', kind: 'int', required: true, hint: 'Ties within a kind: higher first' },
  { name: 'points', label: 'Points', kind: 'int', hint: 'Base rate: points per “per minor”' },
  { name: 'perMinor', label: 'Per minor units', kind: 'int', hint: 'Base rate: e.g. 100 = per £1' },
  { name: 'currency', label: 'Currency', kind: 'text', hint: 'Base rate, e.g. GBP' },
  { name: 'multiplierPercent', label: 'Multiplier %', kind: 'int', hint: '200 doubles the base points' },
  { name: 'fixedPoints', label: 'Fixed points', kind: 'int', hint: 'Bonus: per order' },
  { name: 'capPoints', label: 'Cap (points)', kind: 'int', hint: 'Order or daily cap' },
  { name: 'category', label: 'Category', kind: 'text' },
  { name: 'sku', label: 'SKU', kind: 'text' },
  { name: 'channelKind', label: 'Channel', kind: 'select', options: Object.keys(channelLabels) },
  { name: 'startsAt', label: 'Starts (UTC)', kind: 'datetime' },
  { name: 'endsAt', label: 'Ends (UTC)', kind: 'datetime' },
];

const editFields: FormField[] = [...fields, { name: 'isActive', label: 'Active (untick to retire the rule)', kind: 'checkbox' }];

export function EarningRuleList() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: EarningRulesDocument });
  const [, create] = useMutation(CreateEarningRuleDocument);
  const [, update] = useMutation(UpdateEarningRuleDocument);
  return (
    <ResourcePage<EarningRuleFieldsFragment>
      title="Earning rules"
      singular="earning rule"
      testId="earning-rules"
      rows={data?.earningRules}
      fetching={fetching}
      error={error}
      refetch={() => refetch({ requestPolicy: 'network-only' })}
      rowKey={(r) => r.id}
      managePermission="programme:manage"
      emptyText="No earning rules yet: members earn no points"
      fields={editFields}
      intro={<p className="muted">Editing a rule writes a new version; orders keep the version they were credited with.</p>}
      save={async (input, editing) => {
        if (editing) {
          return (await update({ input: { ...(input as EarningRuleInput), isActive: input.isActive as boolean, ruleKey: editing.ruleKey } })).error;
        }
        const { isActive: _ignored, ...createInput } = input;
        return (await create({ input: createInput as EarningRuleInput })).error;
      }}
      columns={[
        { header: 'Name', cell: (r) => r.name },
        { header: 'Kind', cell: (r) => humanize(r.kind) },
        { header: 'Rule', cell: describe },
        { header: 'Priority', numeric: true, cell: (r) => r.priority },
        { header: 'Version', numeric: true, cell: (r) => `v${r.version}` },
        { header: 'Window', cell: (r) => (r.startsAt || r.endsAt ? `${formatDate(r.startsAt)} – ${formatDate(r.endsAt)}` : 'Always') },
        { header: 'Status', cell: (r) => <Badge tone={r.isActive ? 'good' : 'neutral'}>{r.isActive ? 'Active' : 'Retired'}</Badge> },
      ]}
    />
  );
}

function describe(r: EarningRuleFieldsFragment): string {
  switch (r.kind) {
    case 'BASE_RATE':
      return `${r.points} pt per ${r.perMinor} ${r.currency ?? ''}`.trim();
    case 'BONUS':
      return r.fixedPoints != null ? `+${r.fixedPoints} pt per order` : `${r.multiplierPercent}%`;
    case 'CATEGORY_MULTIPLIER':
      return `${r.category}: ${r.multiplierPercent}%`;
    case 'PRODUCT_MULTIPLIER':
      return `${r.sku}: ${r.multiplierPercent}%`;
    case 'CHANNEL_MULTIPLIER':
      return `${r.channelKind ? channelLabels[r.channelKind] : '?'}: ${r.multiplierPercent}%`;
    default:
      return `max ${r.capPoints} pt`;
  }
}
