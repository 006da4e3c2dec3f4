import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, type CombinedError } from 'urql';
import {
  ChallengeAudienceCountDocument,
  CreateChallengeDocument,
  RewardsDocument,
  SegmentsDocument,
  UpdateChallengeDocument,
  type ChallengeFieldsFragment,
  type ChallengeGoalKind,
  type ChallengeRewardKind,
  type CreateChallengeInput,
  type UpdateChallengeInput,
} from '../gql/graphql';
import { errorMessage, fieldErrorMap, hasErrorCode } from '../shared/errors';
import { formatInteger, localDateTimeInput } from '../shared/format';
import { changedEntries } from '../shared/changes';
import { Field, FormActions, FormErrorLine } from '../shared/ui';
import { goalLabels } from './challenge-format';

const goals = Object.keys(goalLabels) as ChallengeGoalKind[];
const rewardKinds: { kind: ChallengeRewardKind; label: string }[] = [
  { kind: 'POINTS', label: 'Points' },
  { kind: 'REWARD', label: 'A catalogue reward' },
  { kind: 'BADGE', label: 'A badge' },
];

/** "Three visits in May" → "three_visits_in_may": the code the builder suggests until one is typed. */
const codeOf = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^[^a-z]+|_+$/g, '')
    .slice(0, 40);

interface Values {
  name: string;
  code: string;
  description: string;
  goalKind: ChallengeGoalKind;
  target: string;
  activityType: string;
  isPersonal: boolean;
  personalDelta: string;
  personalLookbackWeeks: string;
  audienceSegmentId: string;
  startsAt: string;
  endsAt: string;
  rewardKind: ChallengeRewardKind;
  rewardPoints: string;
  rewardId: string;
  badgeCode: string;
  badgeName: string;
  holdoutPercent: string;
  isActive: boolean;
}

const usesActivityType = (kind: ChallengeGoalKind) => kind === 'ACTIVITY_COUNT' || kind === 'STREAK_DAYS' || kind === 'STREAK_WEEKS';
const canPersonalise = (kind: ChallengeGoalKind) => kind === 'ORDER_COUNT' || kind === 'SPEND';
/** Spend is typed in pounds (the programme's currency, two decimals) and sent in minor units. */
const amount = (text: string, kind: ChallengeGoalKind) => (kind === 'SPEND' ? Math.round(Number(text) * 100) : Number(text));

function toCreateInput(v: Values): CreateChallengeInput {
  const personal = v.isPersonal && canPersonalise(v.goalKind);
  return {
    code: v.code.trim() || codeOf(v.name),
    name: v.name.trim(),
    description: v.description.trim() || null,
    goalKind: v.goalKind,
    target: amount(v.target, v.goalKind),
    activityType: usesActivityType(v.goalKind) ? v.activityType.trim() || null : null,
    personalisation: personal ? 'PERSONAL_PLUS' : 'NONE',
    ...(personal ? { personalDelta: amount(v.personalDelta, v.goalKind), personalLookbackWeeks: Number(v.personalLookbackWeeks) } : {}),
    audienceSegmentId: v.audienceSegmentId || null,
    startsAt: new Date(v.startsAt).toISOString(),
    endsAt: new Date(v.endsAt).toISOString(),
    reward:
      v.rewardKind === 'POINTS'
        ? { kind: 'POINTS', points: Number(v.rewardPoints) }
        : v.rewardKind === 'REWARD'
          ? { kind: 'REWARD', rewardId: v.rewardId }
          : { kind: 'BADGE', badgeCode: v.badgeCode.trim() || codeOf(v.badgeName), badgeName: v.badgeName.trim() },
    holdoutPercent: Number(v.holdoutPercent),
    isActive: v.isActive,
  };
}

const NEW_CHALLENGE = (): Values => ({
  name: '',
  code: '',
  description: '',
  goalKind: 'ORDER_COUNT',
  target: '3',
  activityType: '',
  isPersonal: false,
  personalDelta: '1',
  personalLookbackWeeks: '8',
  audienceSegmentId: '',
  startsAt: localDateTimeInput(new Date()),
  endsAt: localDateTimeInput(new Date(Date.now() + 7 * 86_400_000)),
  rewardKind: 'POINTS',
  rewardPoints: '100',
  rewardId: '',
  badgeCode: '',
  badgeName: '',
  holdoutPercent: '0',
  isActive: true,
});

/** A stored challenge as the form shows it (spend in pounds, times in the browser's zone, to the minute). */
function valuesOf(c: ChallengeFieldsFragment): Values {
  const shown = (n: number) => (c.goalKind === 'SPEND' ? String(n / 100) : String(n));
  return {
    name: c.name,
    code: c.code,
    description: c.description ?? '',
    goalKind: c.goalKind,
    target: shown(c.target),
    activityType: c.activityType ?? '',
    isPersonal: c.personalisation === 'PERSONAL_PLUS',
    personalDelta: c.personalDelta == null ? '1' : shown(c.personalDelta),
    personalLookbackWeeks: String(c.personalLookbackWeeks ?? 8),
    audienceSegmentId: c.audienceSegmentId ?? '',
    startsAt: localDateTimeInput(new Date(c.startsAt)),
    endsAt: localDateTimeInput(new Date(c.endsAt)),
    rewardKind: c.rewardKind,
    rewardPoints: String(c.rewardPoints ?? 100),
    rewardId: c.rewardId ?? '',
    badgeCode: c.badgeCode ?? '',
    badgeName: c.badgeName ?? '',
    holdoutPercent: String(c.holdoutPercent),
    isActive: c.isActive,
  };
}

/**
 * The fields the form changed, as an update: compared with what the form first showed rather than with the stored
 * challenge, so that a field left alone is not sent (a start time shown to the minute is not a change of its seconds,
 * and a fixed field left alone does not trip CHALLENGE_NOT_EDITABLE).
 */
function toUpdateInput(id: string, shown: Values, v: Values): UpdateChallengeInput {
  const after = toCreateInput(v);
  // The code never changes (segments name the challenge by it).
  const { code: _code, ...changed } = changedEntries(toCreateInput(shown), after);
  return { id, ...changed };
}

interface ChallengeFormProps {
  /** The challenge to edit; absent, the form builds a new one. */
  challenge?: ChallengeFieldsFragment;
  /** Members have progress: what their progress depends on is shown but cannot change. */
  isLocked?: boolean;
  onSaved(challenge: ChallengeFieldsFragment): void;
  onCancel(): void;
}

/** The challenge builder (goal, window, audience with its live member count, reward and holdout), and its editor. */
export function ChallengeForm({ challenge, isLocked = false, onSaved, onCancel }: ChallengeFormProps) {
  const [segments] = useQuery({ query: SegmentsDocument });
  const [rewards] = useQuery({ query: RewardsDocument });
  const [created, create] = useMutation(CreateChallengeDocument);
  const [updated, update] = useMutation(UpdateChallengeDocument);
  const fetching = created.fetching || updated.fetching;
  const [error, setError] = useState<CombinedError>();
  const [shown] = useState<Values>(() => (challenge ? valuesOf(challenge) : NEW_CHALLENGE()));
  const [v, setValues] = useState<Values>(shown);
  const locked = Boolean(challenge) && isLocked;
  const set = <K extends keyof Values>(key: K, value: Values[K]) => setValues((old) => ({ ...old, [key]: value }));
  const [audience] = useQuery({ query: ChallengeAudienceCountDocument, variables: { segmentId: v.audienceSegmentId || null } });
  const fields = fieldErrorMap(error);
  const windowError = hasErrorCode(error, 'CHALLENGE_WINDOW_INVALID') ? errorMessage(error) : undefined;
  const placed = [
    'code', 'name', 'description', 'goalKind', 'target', 'activityType', 'personalisation', 'personalDelta', 'personalLookbackWeeks',
    'audienceSegmentId', 'startsAt', 'endsAt', 'reward.points', 'reward.rewardId', 'reward.badgeCode', 'reward.badgeName', 'holdoutPercent',
  ];
  // The current reward stays listed when it has since been deactivated, so that the form shows what is stored.
  const rewardList = rewards.data?.rewards.filter((r) => r.isActive || r.id === challenge?.rewardId) ?? [];

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(undefined);
    if (challenge) {
      const input = toUpdateInput(challenge.id, shown, v);
      if (Object.keys(input).length === 1) return onSaved(challenge);
      const result = await update({ input });
      if (result.error) setError(result.error);
      else if (result.data) onSaved(result.data.updateChallenge);
      return;
    }
    const result = await create({ input: toCreateInput(v) });
    if (result.error) setError(result.error);
    else if (result.data) onSaved(result.data.createChallenge);
  }

  return (
    <form className="resource-form" onSubmit={submit} aria-label={challenge ? 'Edit challenge' : 'New challenge'} data-testid="challenge-form">
      {locked && (
        <p className="notice small" data-testid="challenge-locked">
          Members have progress in this challenge: its goal, start, audience, holdout and reward are fixed. Its name,
          description, end and whether it is active can still change.
        </p>
      )}
      <div className="form-grid">
        <Field label="Name" error={fields.name}>
          {(p) => <input {...p} required maxLength={100} value={v.name} onChange={(e) => set('name', e.target.value)} data-testid="challenge-name" />}
        </Field>
        <Field label="Code" error={fields.code} hint={challenge ? 'Fixed: segments name the challenge by it' : 'Lower snake case; segments name the challenge by it'}>
          {(p) => <input {...p} maxLength={40} placeholder={codeOf(v.name)} value={v.code} readOnly={Boolean(challenge)} onChange={(e) => set('code', e.target.value)} />}
        </Field>
        <Field label="Description" error={fields.description}>
          {(p) => <input {...p} maxLength={1000} value={v.description} onChange={(e) => set('description', e.target.value)} />}
        </Field>
      </div>

      <div className="form-grid">
        <Field label="Goal" error={fields.goalKind}>
          {(p) => (
            <select disabled={locked} {...p} value={v.goalKind} onChange={(e) => set('goalKind', e.target.value as ChallengeGoalKind)} data-testid="challenge-goal">
              {goals.map((g) => (
                <option key={g} value={g}>
                  {goalLabels[g]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={v.goalKind === 'SPEND' ? 'Target (£)' : 'Target'} error={fields.target} hint={v.goalKind.startsWith('STREAK') ? 'Consecutive days or weeks in the programme’s time zone' : undefined}>
          {(p) => <input disabled={locked} {...p} type="number" min={1} step={v.goalKind === 'SPEND' ? 0.01 : 1} required value={v.target} onChange={(e) => set('target', e.target.value)} data-testid="challenge-target" />}
        </Field>
        {usesActivityType(v.goalKind) && (
          <Field label="Activity type" error={fields.activityType} hint={v.goalKind === 'ACTIVITY_COUNT' ? 'e.g. review_written' : 'Empty: orders make the streak'}>
            {(p) => <input disabled={locked} {...p} maxLength={64} required={v.goalKind === 'ACTIVITY_COUNT'} value={v.activityType} onChange={(e) => set('activityType', e.target.value)} />}
          </Field>
        )}
      </div>
      {canPersonalise(v.goalKind) && (
        <div className="form-grid">
          <label className="checkbox">
            <input disabled={locked} type="checkbox" checked={v.isPersonal} onChange={(e) => set('isPersonal', e.target.checked)} data-testid="challenge-personal" />
            <span>Personal goal: each member’s usual, plus more (never below the target)</span>
          </label>
          {v.isPersonal && (
            <>
              <Field label={v.goalKind === 'SPEND' ? 'More than usual (£)' : 'More than usual'} error={fields.personalDelta}>
                {(p) => <input disabled={locked} {...p} type="number" min={0} step={v.goalKind === 'SPEND' ? 0.01 : 1} value={v.personalDelta} onChange={(e) => set('personalDelta', e.target.value)} />}
              </Field>
              <Field label="Usual over (weeks before the start)" error={fields.personalLookbackWeeks}>
                {(p) => <input disabled={locked} {...p} type="number" min={1} max={52} step={1} value={v.personalLookbackWeeks} onChange={(e) => set('personalLookbackWeeks', e.target.value)} />}
              </Field>
            </>
          )}
        </div>
      )}

      <div className="form-grid">
        <Field label="Audience" error={fields.audienceSegmentId}>
          {(p) => (
            <select disabled={locked} {...p} value={v.audienceSegmentId} onChange={(e) => set('audienceSegmentId', e.target.value)} data-testid="challenge-audience">
              <option value="">Everyone</option>
              {(segments.data?.segments ?? []).map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <p className="muted" aria-live="polite" data-testid="challenge-audience-count">
          {audience.data ? `${formatInteger(audience.data.challengeAudienceCount)} members now` : audience.error ? errorMessage(audience.error) : 'Counting…'}
        </p>
        <Field label="Holdout %" error={fields.holdoutPercent} hint="Tracked but never rewarded, to measure the spend it adds; 0 to 50">
          {(p) => <input disabled={locked} {...p} type="number" min={0} max={50} step={1} required value={v.holdoutPercent} onChange={(e) => set('holdoutPercent', e.target.value)} />}
        </Field>
      </div>

      <div className="form-grid">
        <Field label="Starts" error={fields.startsAt}>
          {(p) => <input disabled={locked} {...p} type="datetime-local" required value={v.startsAt} onChange={(e) => set('startsAt', e.target.value)} data-testid="challenge-starts" />}
        </Field>
        <Field label="Ends" error={fields.endsAt ?? windowError} hint="After the start, at most 366 days later">
          {(p) => <input {...p} type="datetime-local" required value={v.endsAt} onChange={(e) => set('endsAt', e.target.value)} data-testid="challenge-ends" />}
        </Field>
      </div>

      <fieldset className="choice-group">
        <legend>Reward</legend>
        {rewardKinds.map((r) => (
          <label key={r.kind} className="checkbox">
            <input disabled={locked} type="radio" name="rewardKind" value={r.kind} checked={v.rewardKind === r.kind} onChange={() => set('rewardKind', r.kind)} />
            <span>{r.label}</span>
          </label>
        ))}
      </fieldset>
      <div className="form-grid">
        {v.rewardKind === 'POINTS' && (
          <Field label="Points" error={fields['reward.points']}>
            {(p) => <input disabled={locked} {...p} type="number" min={1} max={1_000_000} step={1} required value={v.rewardPoints} onChange={(e) => set('rewardPoints', e.target.value)} data-testid="challenge-points" />}
          </Field>
        )}
        {v.rewardKind === 'REWARD' && (
          <Field label="Reward" error={fields['reward.rewardId']} hint="Given for 0 points">
            {(p) => (
              <select disabled={locked} {...p} required value={v.rewardId} onChange={(e) => set('rewardId', e.target.value)}>
                <option value="">{rewardList.length ? 'Choose a reward' : 'No active rewards'}</option>
                {rewardList.map((r) => (
                  <option key={r.id} value={r.id}>
                    {r.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
        {v.rewardKind === 'BADGE' && (
          <>
            <Field label="Badge name" error={fields['reward.badgeName']}>
              {(p) => <input disabled={locked} {...p} required maxLength={100} value={v.badgeName} onChange={(e) => set('badgeName', e.target.value)} data-testid="challenge-badge-name" />}
            </Field>
            <Field label="Badge code" error={fields['reward.badgeCode']} hint="A member holds each badge once">
              {(p) => <input disabled={locked} {...p} maxLength={40} placeholder={codeOf(v.badgeName)} value={v.badgeCode} onChange={(e) => set('badgeCode', e.target.value)} />}
            </Field>
          </>
        )}
        <label className="checkbox">
          <input type="checkbox" checked={v.isActive} onChange={(e) => set('isActive', e.target.checked)} />
          <span>Active: counts progress in its window</span>
        </label>
      </div>

      <FormErrorLine error={error} shown={windowError ? { ...fields, endsAt: windowError } : fields} placed={placed} testId="challenge-form-error" />
      <FormActions submitLabel={challenge ? 'Save changes' : 'Create challenge'} busy={fetching} onCancel={onCancel} testId={challenge ? 'challenge-save' : 'challenge-create'} />
    </form>
  );
}
