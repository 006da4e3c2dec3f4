import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { useCurrentAdmin } from '../auth/RequireAuth';
import { CancelRedemptionDocument, VoucherLookupDocument, type RedemptionStatus } from '../gql/graphql';
import { errorMessage } from '../shared/errors';
import { dash, formatDateTime, formatInteger, humanize, shortId } from '../shared/format';
import { can } from '../shared/permissions';
import { Badge, Card, ErrorBox, PageHeader, type Tone } from '../shared/ui';

const tones: Record<RedemptionStatus, Tone> = { ISSUED: 'good', CONSUMED: 'neutral', CANCELLED: 'warn', EXPIRED: 'bad' };

/** A voucher by its code, as a customer reads it out: whose it is, for what, and whether it can still be used. */
export function VoucherLookupPage() {
  const [typed, setTyped] = useState('');
  const [code, setCode] = useState('');
  const [{ data, fetching, error }, refetch] = useQuery({ query: VoucherLookupDocument, variables: { code }, pause: !code, requestPolicy: 'network-only' });
  const v = data?.voucher;
  const admin = useCurrentAdmin();

  function submit(event: FormEvent) {
    event.preventDefault();
    setCode(typed.trim());
  }

  return (
    <section className="page" aria-label="Voucher lookup">
      <PageHeader title="Voucher lookup" summary="Case and spaces do not matter." />
      <form className="upload-form" onSubmit={submit} role="search">
        <div className="field">
          <label htmlFor="voucher-code">Voucher code</label>
          <input id="voucher-code" className="mono" required maxLength={40} autoComplete="off" value={typed} onChange={(e) => setTyped(e.target.value)} />
        </div>
        <button type="submit" disabled={fetching} data-testid="voucher-find">
          Find
        </button>
      </form>
      {error && <ErrorBox error={error} testId="voucher-error" />}
      {code && data && !v && (
        <p className="empty" data-testid="voucher-not-found">
          No voucher has the code {code.toUpperCase()}.
        </p>
      )}
      {v && (
        <Card title={v.reward.name} testId="voucher-result" actions={<Badge tone={tones[v.status]}>{humanize(v.status)}</Badge>}>
          <dl className="facts">
            <div>
              <dt>Code</dt>
              <dd className="mono">{v.voucherCode ?? dash}</dd>
            </div>
            <div>
              <dt>Member</dt>
              <dd>
                <Link to={`/members/${v.memberId}`} data-testid="voucher-member">
                  {shortId(v.memberId)}
                </Link>
              </dd>
            </div>
            <div>
              <dt>Paid</dt>
              <dd>{v.grantedBy ? `Granted by ${v.grantedBy}` : `${formatInteger(v.points)} points`}</dd>
            </div>
            <div>
              <dt>Issued</dt>
              <dd>{formatDateTime(v.createdAt)}</dd>
            </div>
            <div>
              <dt>Expires</dt>
              <dd>{v.expiresAt ? formatDateTime(v.expiresAt) : 'never'}</dd>
            </div>
            {v.consumedAt && (
              <div>
                <dt>Used</dt>
                <dd data-testid="voucher-used">
                  {formatDateTime(v.consumedAt)}
                  {v.consumedOrderRef && ` on order ${v.consumedOrderRef}`}
                </dd>
              </div>
            )}
            {v.cancelledAt && (
              <div>
                <dt>Cancelled</dt>
                <dd data-testid="voucher-cancelled">{formatDateTime(v.cancelledAt)}, points returned</dd>
              </div>
            )}
          </dl>
          {v.status === 'ISSUED' && can(admin, 'rewards:redeem') && (
            <CancelVoucher key={v.id} redemptionId={v.id} points={v.grantedBy ? null : v.points} onCancelled={() => refetch({ requestPolicy: 'network-only' })} />
          )}
        </Card>
      )}
    </section>
  );
}

/**
 * Cancelling an unused voucher returns its points to the member (to the lots they came from). Two steps, since it
 * cannot be undone; the API refuses a voucher used, cancelled or expired in the meantime.
 */
function CancelVoucher({ redemptionId, points, onCancelled }: { redemptionId: string; points: number | null; onCancelled(): void }) {
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
