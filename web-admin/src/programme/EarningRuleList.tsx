import { useMemo } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  CreateEarningRuleDocument,
  EarningRuleKindsDocument,
  EarningRulesDocument,
  UpdateEarningRuleDocument,
  type EarningRuleFieldsFragment,
  type EarningRuleInput,
  type EarningRuleKindsQuery,
} from '../gql/graphql';
import { channelLabels } from '../members/member-format';
import { formatDate, formatMoney, humanize } from '../shared/format';
import { ownValue } from '../shared/lookup';
import { ResourcePage, type FormField, type FormValues } from '../shared/ResourcePage';
import { Badge } from '../shared/ui';

type RuleKind = EarningRuleKindsQuery['earningRuleKinds'][number];
type RuleParam = RuleKind['params'][number];

const controlFor: Record<string, FormField['kind']> = { string: 'text', integer: 'int', percent: 'int', date: 'datetime', enum: 'select' };

function hintOf(p: RuleParam): string | undefined {
  const range = p.min != null && p.max != null ? `${p.min}–${p.max}` : undefined;
  return [p.description, range].filter(Boolean).join(' · ') || undefined;
}

/**
 * The form's fields from `earningRuleKinds`: the ones every rule has, then each kind's arguments, shown while that kind
 * is chosen. A built-in kind's arguments are fields of the input; a plugin kind's go in `params`. So a kind a plugin
 * adds appears here with no change to this page.
 */
function fieldsFor(kinds: readonly RuleKind[]): FormField[] {
  const kindParams = kinds.flatMap((k) =>
    k.params.map(
      (p): FormField => ({
        name: k.isBuiltIn ? p.name : `params.${p.name}`,
        key: `${k.kind}.${p.name}`,
        label: p.label,
        kind: ownValue(controlFor, p.type) ?? 'text',
        options: p.type === 'enum' ? (p.options ?? []) : undefined,
        optionLabels: p.name === 'channelKind' ? channelLabels : undefined,
        required: p.required,
        hint: hintOf(p),
        showWhen: (values: FormValues) => values.kind === k.kind,
      }),
    ),
  );
  return [
    { name: 'name', label: 'Name', kind: 'text', required: true },
    {
      name: 'kind',
      label: 'Kind',
      kind: 'select',
      options: kinds.map((k) => k.kind),
      optionLabels: Object.fromEntries(kinds.map((k) => [k.kind, k.label])),
      required: true,
    },
    { name: 'priority', label: 'Priority', kind: 'int', required: true, hint: 'Ties within a kind: higher first' },
    ...kindParams,
    { name: 'startsAt', label: 'Starts (UTC)', kind: 'datetime' },
    { name: 'endsAt', label: 'Ends (UTC)', kind: 'datetime' },
  ];
}

export function EarningRuleList() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: EarningRulesDocument });
  const [kindsResult] = useQuery({ query: EarningRuleKindsDocument });
  const [, create] = useMutation(CreateEarningRuleDocument);
  const [, update] = useMutation(UpdateEarningRuleDocument);
  const kinds = kindsResult.data?.earningRuleKinds;
  const editFields = useMemo(
    () => [...fieldsFor(kinds ?? []), { name: 'isActive', label: 'Active (untick to retire the rule)', kind: 'checkbox' } satisfies FormField],
    [kinds],
  );
  const labels = useMemo(() => new Map(kinds?.map((k) => [k.kind as string, k]) ?? []), [kinds]);
  return (
    <ResourcePage<EarningRuleFieldsFragment>
      title="Earning rules"
      singular="earning rule"
      testId="earning-rules"
      rows={kinds ? data?.earningRules : undefined}
      fetching={fetching || kindsResult.fetching}
      error={error ?? kindsResult.error}
      refetch={refetch}
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
        { header: 'Kind', cell: (r) => labels.get(r.kind)?.label ?? humanize(r.kind) },
        { header: 'Rule', cell: (r) => describe(r, labels.get(r.kind)) },
        { header: 'Priority', numeric: true, cell: (r) => r.priority },
        { header: 'Version', numeric: true, cell: (r) => `v${r.version}` },
        { header: 'Window', cell: (r) => describeWindow(r) },
        { header: 'Status', cell: (r) => <Badge tone={r.isActive ? 'good' : 'neutral'}>{r.isActive ? 'Active' : 'Retired'}</Badge> },
      ]}
    />
  );
}

function describe(r: EarningRuleFieldsFragment, kind: RuleKind | undefined): string {
  switch (r.kind) {
    case 'BASE_RATE':
      // perMinor is in minor units (pence), so 100 reads as £1.00.
      return `${r.points} pt per ${formatMoney(r.perMinor, r.currency)}`;
    case 'BONUS':
      return r.fixedPoints != null ? `+${r.fixedPoints} pt per order` : `${r.multiplierPercent}%`;
    case 'CATEGORY_MULTIPLIER':
      return `${r.category}: ${r.multiplierPercent}%`;
    case 'PRODUCT_MULTIPLIER':
      return `${r.sku}: ${r.multiplierPercent}%`;
    case 'CHANNEL_MULTIPLIER':
      return `${r.channelKind ? channelLabels[r.channelKind] : '?'}: ${r.multiplierPercent}%`;
    case 'ORDER_CAP':
    case 'DAILY_CAP':
      return `max ${r.capPoints} pt`;
    default: {
      // A plugin's kind: its arguments as its params name them.
      const params = r.params ?? {};
      return (kind?.params ?? Object.keys(params).map((name) => ({ name, label: name })))
        .filter((p) => params[p.name] != null)
        .map((p) => `${p.label}: ${String(params[p.name])}`)
        .join(', ');
    }
  }
}

// 0 = Sunday, as the engine reads getUTCDay(); listed Monday first.
const weekdayNames = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const weekOrder = [1, 2, 3, 4, 5, 6, 0];

/** When the rule applies: its dates, its days of the week, both, or "Always". */
function describeWindow(r: EarningRuleFieldsFragment): string {
  const dates = r.startsAt || r.endsAt ? `${formatDate(r.startsAt)} – ${formatDate(r.endsAt)}` : null;
  const days = r.daysOfWeek?.length ? weekOrder.filter((d) => r.daysOfWeek!.includes(d)).map((d) => weekdayNames[d]).join(', ') : null;
  return [dates, days].filter(Boolean).join(' · ') || 'Always';
}
