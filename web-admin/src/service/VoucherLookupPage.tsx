import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useQuery } from 'urql';
import { useCurrentAdmin } from '../auth/RequireAuth';
import { VoucherLookupDocument } from '../gql/graphql';
import { dash, formatDateTime, formatInteger, humanize, shortId } from '../shared/format';
import { can } from '../shared/permissions';
import { Badge, Card, ErrorBox, PageHeader } from '../shared/ui';
import { CancelVoucher, voucherTones } from './CancelVoucher';

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
        <Card title={v.reward.name} testId="voucher-result" actions={<Badge tone={voucherTones[v.status]}>{humanize(v.status)}</Badge>}>
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
                <dd data-testid="voucher-cancelled">{formatDateTime(v.cancelledAt)}{v.grantedBy ? '' : ', points returned'}</dd>
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
