import { useState, type FormEvent } from 'react';
import { useMutation, type CombinedError } from 'urql';
import { UpdateMemberDocument, type ConsentMedium, type SalesChannelKind, type UpdateMemberInput } from '../../gql/graphql';
import { fieldErrorMap } from '../../shared/errors';
import { Field, FormActions, FormErrorLine } from '../../shared/ui';
import { channelLabels } from '../member-format';
import type { Member } from './types';

const media: ConsentMedium[] = ['EMAIL', 'SMS', 'PUSH'];
const preferable = (Object.keys(channelLabels) as SalesChannelKind[]).filter((k) => k !== 'ADMIN');
const textFields = ['firstName', 'lastName', 'email', 'phone', 'birthday', 'country', 'preferredStoreCode'] as const;
type TextField = (typeof textFields)[number];

interface Values extends Record<TextField, string> {
  preferredChannel: string;
  consents: Record<ConsentMedium, boolean>;
}

function valuesOf(m: Member): Values {
  const granted = new Set(m.consents.filter((c) => c.isGranted).map((c) => c.medium));
  return {
    ...(Object.fromEntries(textFields.map((f) => [f, m[f] ?? ''])) as Record<TextField, string>),
    preferredChannel: m.preferredChannel ?? '',
    consents: Object.fromEntries(media.map((medium) => [medium, granted.has(medium)])) as Record<ConsentMedium, boolean>,
  };
}

/**
 * The fields changed from what the form first showed (an emptied field is sent as null, which clears it), and the
 * consents changed, recorded as granted or withdrawn now: a field left alone is never rewritten.
 */
function toUpdateInput(id: string, shown: Values, v: Values): UpdateMemberInput {
  const input: UpdateMemberInput = { id };
  for (const f of textFields) if (v[f].trim() !== shown[f].trim()) input[f] = v[f].trim() || null;
  if (v.preferredChannel !== shown.preferredChannel) input.preferredChannel = (v.preferredChannel || null) as SalesChannelKind | null;
  const consents = media.filter((medium) => v.consents[medium] !== shown.consents[medium]).map((medium) => ({ medium, isGranted: v.consents[medium] }));
  if (consents.length) input.consents = consents;
  return input;
}

/** A service-desk edit of a member's profile and consents (members:write); email and phone stay unique to one member. */
export function EditProfileForm({ member, onSaved, onCancel }: { member: Member; onSaved(): void; onCancel(): void }) {
  const [{ fetching }, update] = useMutation(UpdateMemberDocument);
  const [error, setError] = useState<CombinedError>();
  const [shown] = useState(() => valuesOf(member));
  const [v, setValues] = useState(shown);
  const fields = fieldErrorMap(error);
  // An email or phone another member holds is a CONFLICT naming the field: shown under it.
  const taken = error?.graphQLErrors.find((e) => e.extensions?.reason === 'IDENTIFIER_TAKEN')?.extensions?.field;
  if (taken === 'input.email' || taken === 'input.phone') fields[taken.slice(6)] = `belongs to another member`;
  const set = <K extends keyof Values>(key: K, value: Values[K]) => setValues((old) => ({ ...old, [key]: value }));

  async function submit(event: FormEvent) {
    event.preventDefault();
    const input = toUpdateInput(member.id, shown, v);
    if (Object.keys(input).length === 1) return onCancel();
    const result = await update({ input });
    setError(result.error);
    if (!result.error) onSaved();
  }

  const text = (field: TextField, label: string, extra: Record<string, unknown> = {}, hint?: string) => (
    <Field label={label} error={fields[field]} hint={hint}>
      {(p) => <input {...p} {...extra} value={v[field]} onChange={(e) => set(field, e.target.value)} />}
    </Field>
  );

  return (
    <form className="resource-form" onSubmit={submit} aria-label="Edit profile" data-testid="member-profile-form">
      <div className="form-grid">
        {text('firstName', 'First name', { maxLength: 100, autoComplete: 'off' })}
        {text('lastName', 'Last name', { maxLength: 100, autoComplete: 'off' })}
        {text('email', 'Email', { type: 'email', maxLength: 254, autoComplete: 'off' })}
        {text('phone', 'Phone', { type: 'tel', maxLength: 32, autoComplete: 'off' }, 'E.164 (+44…) or the national format')}
        {text('birthday', 'Birthday', { type: 'date' })}
        {text('country', 'Country', { maxLength: 2, autoComplete: 'off' }, 'Two letters, e.g. GB')}
        <Field label="Preferred channel" error={fields.preferredChannel}>
          {(p) => (
            <select {...p} value={v.preferredChannel} onChange={(e) => set('preferredChannel', e.target.value)}>
              <option value="">None</option>
              {preferable.map((k) => (
                <option key={k} value={k}>
                  {channelLabels[k]}
                </option>
              ))}
            </select>
          )}
        </Field>
        {text('preferredStoreCode', 'Preferred store code', { maxLength: 64, autoComplete: 'off' })}
      </div>
      <fieldset className="choice-group">
        <legend>Marketing consents (a change is dated now, with the admin app as its source)</legend>
        {media.map((medium) => (
          <label key={medium} className="checkbox">
            <input type="checkbox" checked={v.consents[medium]} onChange={(e) => set('consents', { ...v.consents, [medium]: e.target.checked })} />
            <span>{medium === 'EMAIL' ? 'Email' : medium === 'SMS' ? 'SMS' : 'Push'}</span>
          </label>
        ))}
      </fieldset>
      <FormErrorLine error={error} shown={fields} placed={[...textFields, 'preferredChannel']} />
      <FormActions submitLabel="Save profile" busy={fetching} onCancel={onCancel} testId="member-profile-save" />
    </form>
  );
}
