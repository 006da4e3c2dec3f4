import { useMemo, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  ActivitySegmentOptionsDocument,
  ActivityStatsDocument,
  ActivityTypeListDocument,
  CreateActivityTypeDocument,
  UpdateActivityTypeDocument,
  type ActivityTypeFieldsFragment,
  type CreateActivityTypeInput,
  type SalesChannelKind,
  type UpdateActivityTypeInput,
} from '../gql/graphql';
import { dash, formatInteger, humanize } from '../shared/format';
import { ResourcePage, type FormField } from '../shared/ResourcePage';
import { Badge } from '../shared/ui';

const DAY_MS = 86_400_000;
const periods = [7, 30, 90] as const;

const baseFields: FormField[] = [
  { name: 'code', label: 'Code', kind: 'text', required: true, isKey: true, hint: 'lower_snake_case, e.g. store_visit; fixed once created' },
  { name: 'name', label: 'Name', kind: 'text', required: true },
  { name: 'description', label: 'Description', kind: 'text' },
  { name: 'points', label: 'Points', kind: 'int', required: true, hint: 'Per credited activity; 0 records without crediting' },
  { name: 'capPerDay', label: 'Cap per day', kind: 'int', hint: "Per member, in the programme's time zone; blank: none" },
  { name: 'capPerWeek', label: 'Cap per week', kind: 'int', hint: 'Monday to Sunday; blank: none' },
  { name: 'capLifetime', label: 'Lifetime cap', kind: 'int', hint: 'Blank: none' },
  { name: 'minGapMinutes', label: 'Minimum gap (minutes)', kind: 'int', hint: 'Between two credited activities; blank: none' },
  { name: 'tierCodes', label: 'Tiers', kind: 'list', required: true, hint: 'Comma-separated tier codes; blank: every member' },
  { name: 'channelKinds', label: 'Channels', kind: 'list', required: true, hint: 'Comma-separated: WEB, APP, STORE, MARKETPLACE, CALL_CENTER; blank: every channel' },
  { name: 'isActive', label: 'Active', kind: 'checkbox' },
];

const describeCaps = (t: ActivityTypeFieldsFragment) =>
  [
    t.capPerDay != null && `${formatInteger(t.capPerDay)}/day`,
    t.capPerWeek != null && `${formatInteger(t.capPerWeek)}/week`,
    t.capLifetime != null && `${formatInteger(t.capLifetime)} ever`,
    t.minGapMinutes != null && `${formatInteger(t.minGapMinutes)} min apart`,
  ]
    .filter(Boolean)
    .join(', ') || dash;

/** The programme's activity types, their rules and what each saw over the chosen period. */
export function ActivityTypeList() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: ActivityTypeListDocument });
  const [days, setDays] = useState<number>(30);
  // Whole minutes, so the variables (and the cached result) hold still between renders.
  const span = useMemo(() => {
    const to = new Date(Math.ceil(Date.now() / 60_000) * 60_000);
    return { from: new Date(to.getTime() - days * DAY_MS).toISOString(), to: to.toISOString() };
  }, [days]);
  const [stats] = useQuery({ query: ActivityStatsDocument, variables: span });
  const [segments] = useQuery({ query: ActivitySegmentOptionsDocument });
  const [, create] = useMutation(CreateActivityTypeDocument);
  const [, update] = useMutation(UpdateActivityTypeDocument);
  const statsOf = new Map((stats.data?.activityStats ?? []).map((s) => [s.type, s]));
  const segmentNames = Object.fromEntries((segments.data?.segments ?? []).map((s) => [s.id, s.name]));

  const fields: FormField[] = [
    ...baseFields.slice(0, 9),
    { name: 'segmentId', label: 'Segment', kind: 'select', options: Object.keys(segmentNames), optionLabels: segmentNames, hint: 'Only its members are credited; —: everyone' },
    ...baseFields.slice(9),
  ];

  return (
    <ResourcePage<ActivityTypeFieldsFragment>
      title="Activities"
      singular="activity type"
      testId="activity-types"
      rows={data?.activityTypes}
      fetching={fetching}
      error={error}
      refetch={refetch}
      rowKey={(r) => r.id}
      managePermission="activities:manage"
      emptyText="No activity types yet"
      fields={fields}
      intro={
        <p className="small">
          What members do besides buying (reviews, store visits, check-ins) and what it earns. Figures for the last{' '}
          <select aria-label="Period" value={days} onChange={(e) => setDays(Number(e.target.value))} data-testid="activity-stats-period">
            {periods.map((d) => (
              <option key={d} value={d}>
                {d} days
              </option>
            ))}
          </select>
          , by when the activity happened.
        </p>
      }
      save={async (input, editing) => {
        const channelKinds = ((input.channelKinds as string[] | null) ?? []).map((k) => k.toUpperCase()) as SalesChannelKind[];
        if (!editing) return (await create({ input: { ...input, channelKinds } as CreateActivityTypeInput })).error;
        const { code: _code, ...changes } = input;
        return (await update({ input: { ...changes, channelKinds, id: editing.id } as UpdateActivityTypeInput })).error;
      }}
      columns={[
        { header: 'Code', cell: (r) => <span className="mono">{r.code}</span> },
        { header: 'Name', cell: (r) => r.name },
        { header: 'Points', numeric: true, cell: (r) => formatInteger(r.points) },
        { header: 'Caps and gap', cell: describeCaps },
        {
          header: 'Who and where',
          cell: (r) =>
            [
              r.tierCodes.length ? `Tiers ${r.tierCodes.join(', ')}` : null,
              r.segmentId ? `Segment ${segmentNames[r.segmentId] ?? r.segmentId.slice(0, 8)}` : null,
              r.channelKinds.length ? r.channelKinds.map(humanize).join(', ') : null,
            ]
              .filter(Boolean)
              .join('; ') || 'Everyone, every channel',
        },
        { header: 'Status', cell: (r) => (r.isActive ? <Badge tone="good">Active</Badge> : <Badge>Inactive</Badge>) },
        { header: 'Recorded', numeric: true, cell: (r) => formatInteger(statsOf.get(r.code)?.recorded) },
        { header: 'Credited', numeric: true, cell: (r) => formatInteger(statsOf.get(r.code)?.credited) },
        { header: 'Points given', numeric: true, cell: (r) => formatInteger(statsOf.get(r.code)?.points) },
        { header: 'Members', numeric: true, cell: (r) => formatInteger(statsOf.get(r.code)?.members) },
      ]}
    />
  );
}
