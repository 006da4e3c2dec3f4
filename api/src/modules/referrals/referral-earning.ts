import { EarningEventKind, EarningStage, type EarningContributor } from '../earning/pipeline';
import { ReferralStatus } from './referral.entity';
import type { ReferralService } from './referral.service';

/** The member's referral as referred member (a member is referred once), as the run changes it. */
interface ReferralState {
  status: ReferralStatus | null;
  /** The qualifying order of a credited referral. */
  orderId: string | null;
}

/**
 * Referral credit and reversal (referrals module): the first qualifying order of a referred member credits both
 * members; a return that brings it below the minimum while the bonus is pending takes both back. The run locks the
 * referrer with the member (`coLocked`). A claimed guest order does not qualify: the referred member did not place it
 * as a member.
 */
export function referralContributor(referrals: ReferralService): EarningContributor<ReferralState | undefined> {
  return {
    name: 'referrals',
    stage: EarningStage.SETTLE,
    read: {
      select: `select jsonb_build_object('status', r.status, 'orderId', r.order_id) from referral r where r.referred_id = k.member_id`,
      parse: (value: { status: ReferralStatus; orderId: string | null } | null) => ({ status: value?.status ?? null, orderId: value?.orderId ?? null }),
    },

    // One member (an API call) asks with pendingReferrerOf, the statement the order path has always run.
    async coLocked(em, memberIds) {
      if (memberIds.length === 1) {
        const referrer = await referrals.pendingReferrerOf(em, memberIds[0]);
        return referrer ? [referrer] : [];
      }
      return referrals.pendingReferrersOf(em, memberIds);
    },

    async onOrder({ memberId, order, at, origin }, state, run) {
      if (origin === 'CLAIMED' || state?.status !== ReferralStatus.PENDING) return;
      state.status = await referrals.creditOnOrder(run, order, memberId, at);
      if (state.status === ReferralStatus.CREDITED) state.orderId = order.id;
    },

    async onReturn({ order, at }, state, run) {
      if (state?.status !== ReferralStatus.CREDITED || state.orderId !== order.id) return;
      if (await referrals.reverseOnReturn(run, order, at)) Object.assign(state, { status: ReferralStatus.PENDING, orderId: null });
    },
  };
}
