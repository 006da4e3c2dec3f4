import { useMutation } from 'urql';
import { CancelRedemptionDocument, type RedemptionStatus } from '../gql/graphql';
import { formatInteger } from '../shared/format';
import { ConfirmAction, type Tone } from '../shared/ui';

export const voucherTones: Record<RedemptionStatus, Tone> = { ISSUED: 'good', CONSUMED: 'neutral', CANCELLED: 'warn', EXPIRED: 'bad' };

/**
 * Cancelling an unused voucher returns its points to the member (to the lots they came from). Two steps, since it
 * cannot be undone; the API refuses a voucher used, cancelled or expired in the meantime.
 */
export function CancelVoucher({ redemptionId, points, onCancelled }: { redemptionId: string; points: number | null; onCancelled(): void }) {
  const [{ fetching, error }, cancel] = useMutation(CancelRedemptionDocument);
  async function confirm() {
    const result = await cancel({ input: { redemptionId } });
    if (!result.error) onCancelled();
  }
  return (
    <ConfirmAction
      label={points === null ? 'Cancel this voucher' : `Cancel and return ${formatInteger(points)} points`}
      warning="The voucher stops working at once."
      busy={fetching}
      error={error}
      onConfirm={() => void confirm()}
      testId="voucher-cancel"
    />
  );
}
