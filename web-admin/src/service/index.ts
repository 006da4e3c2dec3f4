import type { OperationsPage } from '../operations/operations-page';
import { FeedbackInboxPage } from './FeedbackInboxPage';
import { ReferralsPage } from './ReferralsPage';
import { VoucherLookupPage } from './VoucherLookupPage';

export { MemberVouchersCard } from './MemberVouchersCard';

/** Pages for answering members: referrals, their feedback, a voucher they hold. */
export const pages: OperationsPage[] = [
  { to: '/operations/referrals', label: 'Referrals', permissions: ['members:read'], routes: [{ path: 'referrals', Component: ReferralsPage }] },
  { to: '/operations/feedback', label: 'Feedback inbox', permissions: ['feedback:read'], routes: [{ path: 'feedback', Component: FeedbackInboxPage }] },
  { to: '/operations/vouchers', label: 'Voucher lookup', permissions: ['rewards:redeem'], routes: [{ path: 'vouchers', Component: VoucherLookupPage }] },
];
