import { Campaign } from '../../modules/campaigns/campaign.entity';
import { Segment, SegmentKind } from '../../modules/segments/segment.entity';
import { Redemption } from '../../modules/rewards/redemption.entity';
import { Reward } from '../../modules/rewards/reward.entity';
import { Feedback, FeedbackKind } from '../../modules/feedback/feedback.entity';
import { Webhook } from '../../modules/webhooks/webhook.entity';
import { EventType } from '../../modules/events/event-types';
import { DAY_MS } from '../../base/time';
import { inParallel, seededRandom, weighted, type DemoSeedStep } from './demo-context';
import { DEMO_REWARDS } from './demo-programme';

export const RUNNING_CAMPAIGN = 'Come back for 200 bonus points';
export const CHURN_SEGMENT = 'High churn risk';
/** Where the demo's webhook endpoint points: nothing listens there until you start a receiver (attempts fail, then retry). */
export const DEMO_WEBHOOK_URL = 'http://127.0.0.1:4010/loyalty-events';
const REDEMPTIONS = 40;
/** Vouchers used at the checkout: two in three. */
const CONSUMED_EVERY = 3;

/** Lapsing customers (last order 60 to 180 days ago) get 200 bonus points on orders in the next 30 days; a fifth held out. */
export const runningCampaignStep: DemoSeedStep = {
  name: 'running-campaign',
  async run({ rootEm, services, ctx, now }) {
    if ((await rootEm.fork().count(Campaign, { name: RUNNING_CAMPAIGN })) > 0) return;
    const segment = await services.segments.create(ctx(), {
      name: 'Lapsing customers',
      description: 'Last order 60 to 180 days ago.',
      rule: { attribute: 'daysSinceLastPurchase', op: 'between', value: [60, 180] },
      kind: SegmentKind.DYNAMIC,
    });
    const draft = await services.campaigns.create(ctx(), {
      name: RUNNING_CAMPAIGN,
      description: 'Win-back: 200 bonus points on every order for 30 days; a fifth of the lapsing customers held out.',
      segmentId: segment.id,
      bonus: { fixedPoints: 200 },
      holdoutShare: 0.2,
      budgetPoints: 50_000,
      startsAt: now,
      endsAt: new Date(now.getTime() + 30 * DAY_MS),
    });
    await services.campaigns.launch(ctx(), draft.id);
  },
};

/**
 * Segments on the churn model's band. They are empty until the worker's first churn model passes its gate and scores
 * every member (a minute or two after the first start); the draft campaign on the high-risk one is ready to launch then.
 */
export const churnSegmentsStep: DemoSeedStep = {
  name: 'churn-segments',
  async run({ rootEm, services, ctx, now }) {
    if ((await rootEm.fork().count(Segment, { name: CHURN_SEGMENT })) > 0) return;
    const high = await services.segments.create(ctx(), {
      name: CHURN_SEGMENT,
      description: "Members the active churn model puts in its HIGH band; empty until a churn model is ACTIVE.",
      rule: { attribute: 'churnBand', op: 'eq', value: 'HIGH' },
      kind: SegmentKind.DYNAMIC,
    });
    await services.segments.create(ctx(), {
      name: 'Medium churn risk, email consent',
      description: "The churn model's MEDIUM band among members who accept marketing email.",
      rule: { and: [{ attribute: 'churnBand', op: 'eq', value: 'MEDIUM' }, { attribute: 'consents', op: 'contains', value: 'EMAIL' }] },
      kind: SegmentKind.DYNAMIC,
    });
    await services.campaigns.create(ctx(), {
      name: 'Win back members at high churn risk',
      description: 'A draft: launch it once the churn model has scored the members.',
      segmentId: high.id,
      bonus: { multiplierPercent: 300 },
      holdoutShare: 0.2,
      budgetPoints: 100_000,
      startsAt: now,
      endsAt: new Date(now.getTime() + 21 * DAY_MS),
    });
  },
};

/**
 * Members with points redeem rewards (vouchers, a donation) and use two vouchers in three at the web shop's checkout,
 * through the reward service as the storefront's redeemReward and consumeVoucher do.
 */
export const redemptionsStep: DemoSeedStep = {
  name: 'redemptions',
  async run({ rootEm, services, ctx, asWebShop, counts }) {
    const em = rootEm.fork();
    if ((await em.count(Redemption, {})) > 0) return;
    const rewards = new Map((await em.find(Reward, {})).map((r) => [r.code, r]));
    const order = [DEMO_REWARDS.fiveOff, DEMO_REWARDS.freeBag, DEMO_REWARDS.donation, DEMO_REWARDS.goldPercent].map((code) => rewards.get(code)).filter((r) => r !== undefined);
    if (order.length === 0) return;
    const candidates = await em.execute<{ id: string; tier: string | null }[]>(
      `select m.id, t.code as tier from member m join member_balance b on b.member_id = m.id
         left join member_tier mt on mt.member_id = m.id left join tier t on t.id = mt.tier_id
        where m.status = 'ACTIVE' and m.email is not null and b.available >= 1000 order by m.id limit ?`,
      [REDEMPTIONS],
    );
    let redeemed = 0;
    let consumed = 0;
    for (const [i, member] of candidates.entries()) {
      let reward = order[i % order.length];
      if (reward.code === DEMO_REWARDS.goldPercent && member.tier !== 'GOLD') reward = order[0];
      const redemption = await services.rewards.redeem(ctx(), { memberId: member.id, rewardId: reward.id, idempotencyKey: `demo-redemption-${i + 1}` });
      redeemed++;
      if (!redemption.voucherCode || i % CONSUMED_EVERY === CONSUMED_EVERY - 1) continue;
      await services.rewards.consume(asWebShop(), { voucherCode: redemption.voucherCode, memberId: member.id, orderRef: `DEMO-CHECKOUT-${i + 1}` });
      consumed++;
    }
    counts.redemptions = redeemed;
    counts.vouchersConsumed = consumed;
  },
};

const NPS_WEIGHTS = [[10, 24], [9, 24], [8, 14], [7, 10], [6, 8], [5, 6], [4, 5], [3, 4], [2, 2], [1, 2], [0, 1]] as const;
const CSAT_WEIGHTS = [[5, 45], [4, 30], [3, 12], [2, 8], [1, 5]] as const;
const COMMENTS: Record<'high' | 'low', string[]> = {
  high: ['Lovely products, quick delivery.', 'Always find something for the shop.', 'Great prices for the quantity.', 'Easy to reorder.'],
  low: ['Delivery took two weeks.', 'Half the order was out of stock.', 'A tin arrived dented.', 'Postage costs too much.'],
};

/**
 * NPS and CSAT answers about orders across the whole history (a day after each order), so that the trend charts and
 * the feedback segments have something to show. The file has none: scores are drawn, the same at every start.
 */
export const feedbackStep: DemoSeedStep = {
  name: 'feedback',
  async run({ rootEm, services, ctx, now, counts }) {
    const em = rootEm.fork();
    if ((await em.count(Feedback, {})) > 0) return;
    const orders = await em.execute<{ id: string; member_id: string; placed_at: Date }[]>(
      `select o.id, o.member_id, o.placed_at from customer_order o join member m on m.id = o.member_id and m.status = 'ACTIVE'
        where o.placed_at < ? order by o.placed_at, o.id`,
      [new Date(now.getTime() - DAY_MS)],
    );
    // Drawn in order first, so that the answers do not depend on the order the parallel writes finish in.
    const random = seededRandom(352);
    const answers = orders.flatMap((o, i) => {
      const kind = i % 12 === 0 ? FeedbackKind.NPS : i % 20 === 7 ? FeedbackKind.CSAT : null;
      if (!kind) return [];
      const score = weighted(random, kind === FeedbackKind.NPS ? NPS_WEIGHTS : CSAT_WEIGHTS);
      const isHigh = kind === FeedbackKind.NPS ? score >= 9 : score >= 4;
      const isLow = kind === FeedbackKind.NPS ? score <= 6 : score <= 2;
      const comments = isHigh ? COMMENTS.high : isLow ? COMMENTS.low : null;
      const comment = comments && random() < 0.4 ? comments[Math.floor(random() * comments.length)] : null;
      return [{ memberId: o.member_id, kind, score, orderId: o.id, comment, givenAt: new Date(new Date(o.placed_at).getTime() + DAY_MS) }];
    });
    await inParallel(answers, async (answer) => void (await services.feedback.record(ctx(), answer)));
    counts.npsAnswers = answers.filter((a) => a.kind === FeedbackKind.NPS).length;
    counts.csatAnswers = answers.filter((a) => a.kind === FeedbackKind.CSAT).length;
  },
};

/**
 * A webhook endpoint for campaign launches. Nothing listens at its URL until you start a receiver, so its deliveries
 * (made by the API once it runs) show failed attempts and their retries; point it at your own receiver on the Webhooks
 * page and the next attempts succeed. Launches only, so that a few deliveries, not hundreds, retry in the log.
 */
export const webhookStep: DemoSeedStep = {
  name: 'webhook',
  async run({ rootEm, services, ctx }) {
    if ((await rootEm.fork().count(Webhook, {})) > 0) return;
    await services.webhooks.register(ctx(), {
      url: DEMO_WEBHOOK_URL,
      eventTypes: [EventType.CAMPAIGN_LAUNCHED],
      description: 'Demo CRM endpoint: nothing listens here until you start a receiver on port 4010.',
    });
  },
};
