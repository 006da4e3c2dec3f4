import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, type CombinedError } from 'urql';
import {
  CreateCampaignDocument,
  RewardsDocument,
  SegmentsDocument,
  UpdateCampaignDocument,
  type CampaignFieldsFragment,
  type CampaignActionKind,
  type ConsentMedium,
  type CreateCampaignInput,
  type UpdateCampaignInput,
} from '../gql/graphql';
import { fieldErrorMap } from '../shared/errors';
import { humanize, localDateTimeInput } from '../shared/format';
import { changedEntries } from '../shared/changes';
import { Field, FormActions, FormErrorLine } from '../shared/ui';

const actions: { kind: CampaignActionKind; label: string; hint: string }[] = [
  { kind: 'BONUS_POINTS', label: 'Bonus points', hint: 'extra points on each order in the window' },
  { kind: 'OFFER', label: 'Offer', hint: 'a reward discount or recommended products' },
  { kind: 'MESSAGE', label: 'Message', hint: 'email, SMS or push, to members who consented' },
];
const media: ConsentMedium[] = ['EMAIL', 'SMS', 'PUSH'];
/** The API's field paths under each action, for placing its errors. */
const actionFields: Record<CampaignActionKind, string[]> = {
  BONUS_POINTS: ['budgetPoints', 'bonus', 'bonus.fixedPoints', 'bonus.multiplierPercent'],
  OFFER: ['offer', 'offer.rewardId', 'offer.discountPercent', 'offer.recommendationCount'],
  MESSAGE: ['message', 'message.subject', 'message.body', 'message.medium'],
};

interface Values {
  name: string;
  description: string;
  segmentId: string;
  /** The actions ticked: treated members get each one, under one holdout. */
  actions: Record<CampaignActionKind, boolean>;
  bonusKind: 'fixed' | 'multiplier';
  bonusValue: string;
  offerKind: 'REWARD_DISCOUNT' | 'RECOMMENDATIONS';
  rewardId: string;
  discountPercent: string;
  recommendationCount: string;
  medium: ConsentMedium;
  subject: string;
  body: string;
  startsAt: string;
  endsAt: string;
  budgetPoints: string;
  holdoutPercent: string;
}

const int = (text: string) => (text.trim() === '' ? null : Number(text));

export function toCreateInput(v: Values): CreateCampaignInput {
  return {
    name: v.name.trim(),
    description: v.description.trim() || null,
    segmentId: v.segmentId,
    startsAt: new Date(v.startsAt).toISOString(),
    endsAt: v.endsAt ? new Date(v.endsAt).toISOString() : null,
    holdoutShare: Number(v.holdoutPercent) / 100,
    ...(v.actions.BONUS_POINTS
      ? {
          bonus: v.bonusKind === 'fixed' ? { fixedPoints: int(v.bonusValue) } : { multiplierPercent: int(v.bonusValue) },
          budgetPoints: int(v.budgetPoints),
        }
      : {}),
    ...(v.actions.OFFER
      ? {
          offer:
            v.offerKind === 'REWARD_DISCOUNT'
              ? { kind: v.offerKind, rewardId: v.rewardId, discountPercent: int(v.discountPercent) }
              : { kind: v.offerKind, recommendationCount: int(v.recommendationCount) },
        }
      : {}),
    ...(v.actions.MESSAGE
      ? { message: { medium: v.medium, subject: v.medium === 'EMAIL' ? v.subject.trim() : null, body: v.body } }
      : {}),
  };
}

const NEW_CAMPAIGN = (): Values => ({
  name: '',
  description: '',
  segmentId: '',
  actions: { BONUS_POINTS: true, OFFER: false, MESSAGE: false },
  bonusKind: 'fixed',
  bonusValue: '50',
  offerKind: 'REWARD_DISCOUNT',
  rewardId: '',
  discountPercent: '20',
  recommendationCount: '3',
  medium: 'EMAIL',
  subject: '',
  body: '',
  startsAt: localDateTimeInput(new Date()),
  endsAt: localDateTimeInput(new Date(Date.now() + 14 * 86_400_000)),
  budgetPoints: '',
  holdoutPercent: '10',
});

/** A stored draft as the form shows it (its actions ticked and filled in, the others at the builder's defaults). */
function valuesOf(c: CampaignFieldsFragment): Values {
  const blank = NEW_CAMPAIGN();
  const text = (n: number | null | undefined, fallback: string) => (n == null ? fallback : String(n));
  return {
    ...blank,
    name: c.name,
    description: c.description ?? '',
    segmentId: c.segment.id,
    actions: { BONUS_POINTS: c.bonus != null, OFFER: c.offer != null, MESSAGE: c.message != null },
    bonusKind: c.bonus?.fixedPoints == null && c.bonus?.multiplierPercent != null ? 'multiplier' : 'fixed',
    bonusValue: text(c.bonus?.fixedPoints ?? c.bonus?.multiplierPercent, blank.bonusValue),
    offerKind: c.offer?.kind ?? blank.offerKind,
    rewardId: c.offer?.rewardId ?? '',
    discountPercent: text(c.offer?.discountPercent, blank.discountPercent),
    recommendationCount: text(c.offer?.recommendationCount, blank.recommendationCount),
    medium: c.message?.medium ?? blank.medium,
    subject: c.message?.subject ?? '',
    body: c.message?.body ?? '',
    startsAt: localDateTimeInput(c.startsAt),
    endsAt: c.endsAt ? localDateTimeInput(c.endsAt) : '',
    budgetPoints: text(c.budgetPoints, ''),
    holdoutPercent: String(Math.round(c.holdoutShare * 10_000) / 100),
  };
}

/**
 * The draft's fields the form changed, compared with what it first showed: a field left alone is not sent. A changed
 * action is sent whole (it replaces that action), an unticked one as null (removed; a removed bonus takes its budget
 * with it); an emptied budget is sent as 0, which removes the cap.
 */
function toUpdateInput(id: string, shown: Values, v: Values): UpdateCampaignInput {
  const before = toCreateInput(shown);
  const after = toCreateInput(v);
  const input: UpdateCampaignInput = { id, ...changedEntries(before, after, ['name', 'description', 'segmentId', 'startsAt', 'endsAt', 'holdoutShare', 'bonus', 'offer', 'message']) };
  for (const key of ['bonus', 'offer', 'message'] as const) if (before[key] && !after[key]) input[key] = null;
  if (v.actions.BONUS_POINTS && after.budgetPoints !== before.budgetPoints) input.budgetPoints = after.budgetPoints ?? 0;
  return input;
}

interface CampaignFormProps {
  /** A draft to edit; absent, the form builds a new one. */
  campaign?: CampaignFieldsFragment;
  onSaved(campaign: CampaignFieldsFragment): void;
  onCancel(): void;
}

/** A new draft campaign (segment, one or more actions, schedule, budget and holdout share), or changes to a draft. */
export function CampaignForm({ campaign, onSaved, onCancel }: CampaignFormProps) {
  const [segments] = useQuery({ query: SegmentsDocument });
  const [rewards] = useQuery({ query: RewardsDocument });
  const [created, create] = useMutation(CreateCampaignDocument);
  const [updated, update] = useMutation(UpdateCampaignDocument);
  const fetching = created.fetching || updated.fetching;
  const [error, setError] = useState<CombinedError>();
  const [shown] = useState<Values>(() => (campaign ? valuesOf(campaign) : NEW_CAMPAIGN()));
  const [v, setValues] = useState<Values>(shown);
  const set = <K extends keyof Values>(key: K, value: Values[K]) => setValues((old) => ({ ...old, [key]: value }));
  const tick = (kind: CampaignActionKind, on: boolean) => setValues((old) => ({ ...old, actions: { ...old.actions, [kind]: on } }));
  const fields = fieldErrorMap(error);
  // Errors show under the fields on screen; one about no action, or a field of an action not ticked, above the buttons.
  const placed = [
    'name', 'description', 'segmentId', 'startsAt', 'endsAt', 'holdoutShare',
    ...actions.flatMap((a) => (v.actions[a.kind] ? actionFields[a.kind] : [])),
  ];
  const segmentList = segments.data?.segments ?? [];
  // The draft's reward stays listed if it has since been deactivated, so that the form shows what is stored.
  const rewardList = rewards.data?.rewards.filter((r) => r.isActive || r.id === campaign?.offer?.rewardId) ?? [];

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(undefined);
    if (campaign) {
      const input = toUpdateInput(campaign.id, shown, v);
      if (Object.keys(input).length === 1) return onSaved(campaign);
      const result = await update({ input });
      if (result.error) setError(result.error);
      else if (result.data) onSaved(result.data.updateCampaign);
      return;
    }
    const result = await create({ input: toCreateInput(v) });
    if (result.error) setError(result.error);
    else if (result.data) onSaved(result.data.createCampaign);
  }

  if (segments.data && segmentList.length === 0) {
    return (
      <p className="empty" data-testid="campaign-no-segments">
        A campaign targets a saved segment: <Link to="/segments">build and save one first</Link>.
      </p>
    );
  }

  return (
    <form className="resource-form" onSubmit={submit} aria-label={campaign ? 'Edit campaign' : 'New campaign'} data-testid="campaign-form">
      <div className="form-grid">
        <Field label="Name" error={fields.name}>
          {(p) => <input {...p} required maxLength={200} value={v.name} onChange={(e) => set('name', e.target.value)} />}
        </Field>
        <Field label="Segment" error={fields.segmentId} hint="Evaluated (dynamic) or read (snapshot) at launch">
          {(p) => (
            <select {...p} required value={v.segmentId} onChange={(e) => set('segmentId', e.target.value)}>
              <option value="">{segments.data ? 'Choose a segment' : 'Loading segments…'}</option>
              {segmentList.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name} ({humanize(s.kind).toLowerCase()})
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Description" error={fields.description}>
          {(p) => <input {...p} maxLength={1000} value={v.description} onChange={(e) => set('description', e.target.value)} />}
        </Field>
      </div>

      <fieldset className="choice-group" data-testid="campaign-actions">
        <legend>Actions: each treated member gets every one ticked</legend>
        {actions.map((a) => (
          <label key={a.kind} className="checkbox">
            <input type="checkbox" name="actions" value={a.kind} checked={v.actions[a.kind]} onChange={(e) => tick(a.kind, e.target.checked)} />
            <span>
              <strong>{a.label}</strong> <span className="muted small">{a.hint}</span>
            </span>
          </label>
        ))}
      </fieldset>

      <div className="form-grid">
        {v.actions.BONUS_POINTS && (
          <>
            <Field label="Bonus" error={fields.bonus}>
              {(p) => (
                <select {...p} value={v.bonusKind} onChange={(e) => set('bonusKind', e.target.value as Values['bonusKind'])}>
                  <option value="fixed">Fixed points per order</option>
                  <option value="multiplier">Multiplier of order points (%)</option>
                </select>
              )}
            </Field>
            <Field
              label={v.bonusKind === 'fixed' ? 'Points per order' : 'Multiplier %'}
              hint={v.bonusKind === 'multiplier' ? '101 to 1000; 200 is double points' : undefined}
              error={fields['bonus.fixedPoints'] ?? fields['bonus.multiplierPercent']}
            >
              {(p) => <input {...p} type="number" step={1} required value={v.bonusValue} onChange={(e) => set('bonusValue', e.target.value)} />}
            </Field>
            <Field label="Budget (points)" hint="Most points given in all; empty for no cap" error={fields.budgetPoints}>
              {(p) => <input {...p} type="number" step={1} min={1} value={v.budgetPoints} onChange={(e) => set('budgetPoints', e.target.value)} />}
            </Field>
          </>
        )}
        {v.actions.OFFER && (
          <>
            <Field label="Offer" error={fields.offer}>
              {(p) => (
                <select {...p} value={v.offerKind} onChange={(e) => set('offerKind', e.target.value as Values['offerKind'])}>
                  <option value="REWARD_DISCOUNT">Discount on a reward</option>
                  <option value="RECOMMENDATIONS">Recommended products</option>
                </select>
              )}
            </Field>
            {v.offerKind === 'REWARD_DISCOUNT' ? (
              <>
                <Field label="Reward" error={fields['offer.rewardId']}>
                  {(p) => (
                    <select {...p} required value={v.rewardId} onChange={(e) => set('rewardId', e.target.value)}>
                      <option value="">{rewardList.length ? 'Choose a reward' : 'No active rewards'}</option>
                      {rewardList.map((r) => (
                        <option key={r.id} value={r.id}>
                          {r.name} ({r.costPoints} points)
                        </option>
                      ))}
                    </select>
                  )}
                </Field>
                <Field label="Discount %" error={fields['offer.discountPercent']}>
                  {(p) => <input {...p} type="number" min={1} max={100} step={1} required value={v.discountPercent} onChange={(e) => set('discountPercent', e.target.value)} />}
                </Field>
              </>
            ) : (
              <Field label="Products per member" hint="1 to 10, from the active recommender" error={fields['offer.recommendationCount']}>
                {(p) => <input {...p} type="number" min={1} max={10} step={1} required value={v.recommendationCount} onChange={(e) => set('recommendationCount', e.target.value)} />}
              </Field>
            )}
          </>
        )}
        {v.actions.MESSAGE && (
          <>
            <Field label="Medium" error={fields['message.medium'] ?? fields.message} hint="Sent only to members who consented">
              {(p) => (
                <select {...p} value={v.medium} onChange={(e) => set('medium', e.target.value as ConsentMedium)}>
                  {media.map((m) => (
                    <option key={m} value={m}>
                      {humanize(m)}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            {v.medium === 'EMAIL' && (
              <Field label="Subject" error={fields['message.subject']}>
                {(p) => <input {...p} required maxLength={200} value={v.subject} onChange={(e) => set('subject', e.target.value)} />}
              </Field>
            )}
            <Field label="Text" error={fields['message.body']} hint={v.medium === 'SMS' ? 'At most 480 characters' : undefined}>
              {(p) => <textarea {...p} required rows={3} value={v.body} onChange={(e) => set('body', e.target.value)} />}
            </Field>
          </>
        )}
      </div>

      <div className="form-grid">
        <Field label="Starts" error={fields.startsAt} hint="In the past or now: it starts at launch">
          {(p) => <input {...p} type="datetime-local" required value={v.startsAt} onChange={(e) => set('startsAt', e.target.value)} />}
        </Field>
        <Field label="Ends" error={fields.endsAt} hint="Empty: runs until cancelled">
          {(p) => <input {...p} type="datetime-local" value={v.endsAt} onChange={(e) => set('endsAt', e.target.value)} />}
        </Field>
        <Field label="Holdout %" error={fields.holdoutShare} hint="Members held out as the control group, 0 to 50">
          {(p) => <input {...p} type="number" min={0} max={50} step="any" required value={v.holdoutPercent} onChange={(e) => set('holdoutPercent', e.target.value)} />}
        </Field>
      </div>

      <FormErrorLine error={error} placed={placed} testId="campaign-form-error" />
      <FormActions submitLabel={campaign ? 'Save draft' : 'Create draft'} busy={fetching} onCancel={onCancel} testId={campaign ? 'campaign-save' : 'campaign-create'} />
    </form>
  );
}
