import { useState } from 'react';
import { useMutation } from 'urql';
import { CancelRedemptionDocument, type RedemptionStatus } from '../gql/graphql';
import { errorMessage } from '../shared/errors';
import { formatInteger } from '../shared/format';
import type { Tone } from '../shared/ui';

export const voucherTones: Record<RedemptionStatus, Tone> = { ISSUED: 'good', CONSUMED: 'neutral', CANCELLED: 'warn', EXPIRED: 'bad' };

/**
 * Cancelling an unused voucher returns its points to the member (to the lots they came from). Two steps, since it
 * cannot be undone; the API refuses a voucher used, cancelled or expired in the meantime.
 */
export function CancelVoucher({ redemptionId, points, onCancelled }: { redemptionId: string; points: number | null; onCancelled(): void }) {
  const [isConfirming, setConfirming] = useState(false);
  const [{ fetching, error }, cancel] = useMutation(CancelRedemptionDocument);
  async function confirm() {
    const result = await cancel({ input: { redemptionId } });
    if (!result.error) onCancelled();
  }
  const what = points === null ? 'Cancel this voucher' : `Cancel and return ${formatInteger(points)} points`;
  return (
    <div className="actions">
      {!isConfirming ? (
        <button type="button" className="secondary" onClick={() => setConfirming(true)} data-testid="voucher-cancel">
          {what}…
        </button>
      ) : (
        <>
          <span>The voucher stops working at once.</span>
          <button type="button" className="danger" disabled={fetching} aria-busy={fetching} onClick={() => void confirm()} data-testid="voucher-cancel-confirm">
            {what}
          </button>
          <button type="button" className="secondary" onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </>
      )}
      {error && (
        <p className="error" role="alert" data-testid="voucher-cancel-error">
          {errorMessage(error)}
        </p>
      )}
    </div>
  );
}
