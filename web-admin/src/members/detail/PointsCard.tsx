import { useState, type FormEvent } from 'react';
import { useMutation, type CombinedError } from 'urql';
import { AdjustPointsDocument } from '../../gql/graphql';
import { errorMessage, fieldErrorMap } from '../../shared/errors';
import { formatDate, formatDelta, formatInteger } from '../../shared/format';
import { Card, Field, Stat } from '../../shared/ui';
import type { Member } from './types';

export function PointsCard({ member: m, canAdjust, onAdjusted }: { member: Member; canAdjust: boolean; onAdjusted(): void }) {
  const p = m.points;
  return (
    <Card title="Points" testId="member-points">
      <div className="stat-row">
        <Stat label="Available" value={formatInteger(p.available)} testId="points-available" />
        <Stat label="Pending" value={formatInteger(p.pending)} hint="Inside the return window" testId="points-pending" />
        <Stat label="Lifetime" value={formatInteger(p.lifetime)} />
      </div>
      <p className="muted" data-testid="points-next-expiry">
        {m.status === 'ERASED'
          ? 'Closed at erasure: nothing is left to expire'
          : p.nextExpiry
            ? `${formatInteger(p.nextExpiry.points)} points expire on ${formatDate(p.nextExpiry.expiresAt)}`
            : 'No points due to expire'}
      </p>
      {canAdjust && <AdjustPointsForm memberId={m.id} onAdjusted={onAdjusted} />}
    </Card>
  );
}

function AdjustPointsForm({ memberId, onAdjusted }: { memberId: string; onAdjusted(): void }) {
  const [{ fetching }, adjust] = useMutation(AdjustPointsDocument);
  const [points, setPoints] = useState('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<CombinedError>();
  const [done, setDone] = useState<string>();
  // One key per intended adjustment: a retry after a network error cannot credit twice.
  const [idempotencyKey, setIdempotencyKey] = useState(() => crypto.randomUUID());
  const fields = fieldErrorMap(error);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setError(undefined);
    setDone(undefined);
    const result = await adjust({ input: { memberId, points: Number(points), reason: reason.trim(), idempotencyKey } });
    if (result.error) {
      setError(result.error);
      return;
    }
    setDone(`Adjusted by ${formatDelta(Number(points))} points`);
    setPoints('');
    setReason('');
    setIdempotencyKey(crypto.randomUUID());
    onAdjusted();
  }

  const formError = error && Object.keys(fields).filter((f) => f !== 'points' && f !== 'reason').length === Object.keys(fields).length;
  return (
    <form className="inline-form" onSubmit={onSubmit} aria-label="Adjust points" data-testid="adjust-points">
      <h3>Adjust points</h3>
      <div className="form-row">
        <Field label="Points" error={fields.points} hint="Negative to remove">
          {(props) => (
            <input {...props} type="number" step={1} required value={points} onChange={(e) => setPoints(e.target.value)} name="points" />
          )}
        </Field>
        <Field label="Reason" error={fields.reason}>
          {(props) => (
            <input {...props} required maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} name="reason" />
          )}
        </Field>
      </div>
      {formError && (
        <p className="error" role="alert" data-testid="adjust-error">
          {errorMessage(error)}
        </p>
      )}
      {done && (
        <p className="success" role="status" data-testid="adjust-done">
          {done}
        </p>
      )}
      <div className="actions">
        <button type="submit" disabled={fetching} aria-busy={fetching} data-testid="adjust-submit">
          Adjust
        </button>
      </div>
    </form>
  );
}
