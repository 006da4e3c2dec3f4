import { useState, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQuery, type CombinedError } from 'urql';
import { useCurrentAdmin } from '../auth/RequireAuth';
import {
  ProgrammeSettingsDocument,
  UpdateProgrammeSettingsDocument,
  type ProgrammeSettingsFieldsFragment,
  type TierMetric,
  type UpdateProgrammeSettingsInput,
} from '../gql/graphql';
import { fieldErrorMap } from '../shared/errors';
import { formatDateTime } from '../shared/format';
import { can } from '../shared/permissions';
import { Card, Field, FormErrorLine, PageHeader, QueryState } from '../shared/ui';

type Settings = ProgrammeSettingsFieldsFragment;
const numbers = ['pendingDays', 'lotExpiryMonths', 'voucherValidDays', 'pointValueMinor', 'tierWindowDays', 'referralReferrerPoints', 'referralReferredPoints', 'referralMinOrderMinor'] as const;
type NumberField = (typeof numbers)[number];
type Values = Record<NumberField | 'pointValueCurrency' | 'timeZone' | 'tierMetric', string>;

const valuesOf = (s: Settings): Values => ({
  ...(Object.fromEntries(numbers.map((f) => [f, String(s[f])])) as Record<NumberField, string>),
  pointValueCurrency: s.pointValueCurrency,
  timeZone: s.timeZone,
  tierMetric: s.tierMetric,
});

/** The fields changed from what the page first showed: a setting left alone is not rewritten over someone else's change. */
function toUpdateInput(shown: Values, v: Values): UpdateProgrammeSettingsInput {
  const input: UpdateProgrammeSettingsInput = {};
  for (const f of numbers) if (v[f].trim() !== shown[f].trim()) input[f] = Number(v[f]);
  if (v.pointValueCurrency.trim() !== shown.pointValueCurrency) input.pointValueCurrency = v.pointValueCurrency.trim().toUpperCase();
  if (v.timeZone.trim() !== shown.timeZone) input.timeZone = v.timeZone.trim();
  if (v.tierMetric !== shown.tierMetric) input.tierMetric = v.tierMetric as TierMetric;
  return input;
}

// The browser's own list, for suggestions only: the API checks the zone.
const timeZones: string[] = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];

/** The programme's settings: return window, expiry, vouchers, the value of a point, tiers, referrals, time zone. */
export function SettingsPage() {
  const admin = useCurrentAdmin();
  const [{ data, fetching, error }, refetch] = useQuery({ query: ProgrammeSettingsDocument });
  const settings = data?.programmeSettings;
  // Kept here: a save refetches the settings and the form starts afresh from them, which would lose its own state.
  const [isSaved, setSaved] = useState(false);
  return (
    <section className="page" aria-label="Programme settings">
      <PageHeader title="Programme settings" summary={settings && `Last changed ${formatDateTime(settings.updatedAt)}`} />
      {!can(admin, 'programme:manage') && <p className="notice small">Your role can read the settings but not change them.</p>}
      <QueryState fetching={fetching} error={error} hasData={Boolean(settings)} refetch={refetch} testId="programme-settings">
        {/* Keyed by the last change, so that a save shows the stored values afresh. */}
        {settings && <SettingsForm key={settings.updatedAt} settings={settings} canEdit={can(admin, 'programme:manage')} onSaved={setSaved} />}
      </QueryState>
      {isSaved && (
        <p className="notice small" role="status" data-testid="settings-saved">
          Saved. Points already earned keep their return window and expiry, and vouchers already issued their end; what is
          earned or redeemed from now on, and the next tier checks, use the new settings.
        </p>
      )}
    </section>
  );
}

function SettingsForm({ settings, canEdit, onSaved }: { settings: Settings; canEdit: boolean; onSaved(isSaved: boolean): void }) {
  const [{ fetching }, update] = useMutation(UpdateProgrammeSettingsDocument);
  const [error, setError] = useState<CombinedError>();
  const [shown] = useState(() => valuesOf(settings));
  const [v, setValues] = useState(shown);
  const fields = fieldErrorMap(error);
  const set = (key: keyof Values, value: string) => {
    onSaved(false);
    setValues((old) => ({ ...old, [key]: value }));
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    const input = toUpdateInput(shown, v);
    if (Object.keys(input).length === 0) return;
    const result = await update({ input });
    setError(result.error);
    onSaved(!result.error);
  }

  const number = (field: NumberField, label: string, hint: string, min: number, max: number): ReactNode => (
    <Field label={label} hint={hint} error={fields[field]}>
      {(p) => <input {...p} type="number" required min={min} max={max} step={1} disabled={!canEdit} value={v[field]} onChange={(e) => set(field, e.target.value)} />}
    </Field>
  );

  return (
    <form onSubmit={submit} aria-label="Programme settings" data-testid="programme-settings-form">
      <div className="card-grid">
        <Card title="Points" testId="settings-points">
          <div className="form-grid">
            {number('pendingDays', 'Return window (days)', 'Earned points stay pending this long before they can be spent; 0 to 365', 0, 365)}
            {number('lotExpiryMonths', 'Points expire after (months)', 'Each earning’s points expire this long after it; 1 to 120', 1, 120)}
            {number('voucherValidDays', 'Vouchers valid for (days)', 'After a redemption; 1 to 3650', 1, 3650)}
            {number('pointValueMinor', 'Value of a point (minor units)', 'For the liability: 1 is a penny a point; 0 to 1,000,000', 0, 1_000_000)}
            <Field label="Currency of that value" error={fields.pointValueCurrency}>
              {(p) => <input {...p} required minLength={3} maxLength={3} disabled={!canEdit} value={v.pointValueCurrency} onChange={(e) => set('pointValueCurrency', e.target.value)} />}
            </Field>
          </div>
        </Card>
        <Card title="Tiers" testId="settings-tiers">
          <div className="form-grid">
            <Field label="Tiers qualify on" error={fields.tierMetric}>
              {(p) => (
                <select {...p} disabled={!canEdit} value={v.tierMetric} onChange={(e) => set('tierMetric', e.target.value)}>
                  <option value="POINTS_EARNED">Points earned</option>
                  <option value="SPEND_MINOR">Spend</option>
                </select>
              )}
            </Field>
            {number('tierWindowDays', 'Over a rolling window of (days)', '1 to 3650', 1, 3650)}
          </div>
        </Card>
        <Card title="Referrals" testId="settings-referrals">
          <div className="form-grid">
            {number('referralReferrerPoints', 'Points for the referrer', 'When someone they referred places a first qualifying order', 0, 1_000_000)}
            {number('referralReferredPoints', 'Points for the referred member', 'On that order, on top of its own points', 0, 1_000_000)}
            {number('referralMinOrderMinor', 'Smallest qualifying order (minor units)', 'In the currency above', 0, 1_000_000_000)}
          </div>
        </Card>
        <Card title="Time zone" testId="settings-time-zone">
          <Field label="Programme time zone" hint="Where a member’s day and week begin: daily and weekly caps, streaks, challenge goals" error={fields.timeZone}>
            {(p) => <input {...p} required list="time-zones" disabled={!canEdit} value={v.timeZone} onChange={(e) => set('timeZone', e.target.value)} />}
          </Field>
          <datalist id="time-zones">
            {timeZones.map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
        </Card>
      </div>
      <FormErrorLine error={error} placed={Object.keys(shown)} />
      {canEdit && (
        <div className="actions">
          <button type="submit" disabled={fetching} aria-busy={fetching} data-testid="settings-save">
            Save settings
          </button>
        </div>
      )}
    </form>
  );
}
