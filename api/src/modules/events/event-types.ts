import { registerEnumType } from 'type-graphql';

/** Every domain event. Values are the wire names (`x-loyalty-event`); GraphQL shows the keys. */
export enum EventType {
  MEMBER_ENROLLED = 'member.enrolled',
  MEMBER_MERGED = 'member.merged',
  MEMBER_ERASED = 'member.erased',
  ORDER_RECORDED = 'order.recorded',
  ORDER_RETURNED = 'order.returned',
  POINTS_EARNED = 'points.earned',
  POINTS_EXPIRED = 'points.expired',
  POINTS_EXPIRING = 'points.expiring',
  TIER_CHANGED = 'tier.changed',
  TIER_AT_RISK = 'tier.at_risk',
  REWARD_REDEEMED = 'reward.redeemed',
  CAMPAIGN_LAUNCHED = 'campaign.launched',
  FEEDBACK_RECORDED = 'feedback.recorded',
}
registerEnumType(EventType, { name: 'EventType', description: 'A domain event a webhook can subscribe to; the wire name is lower.dotted (MEMBER_ENROLLED is member.enrolled).' });

/** Timestamps are ISO-8601 strings so that a payload is the JSON a receiver gets. Ids and facts only, never personal data. */
export interface EventPayloads {
  [EventType.MEMBER_ENROLLED]: { memberId: string; enrolmentChannel: string; enrolledAt: string };
  [EventType.MEMBER_MERGED]: { survivorId: string; absorbedId: string; movedIdentifiers: number };
  [EventType.MEMBER_ERASED]: { memberId: string; erasedAt: string };
  [EventType.ORDER_RECORDED]: {
    orderId: string;
    memberId: string | null;
    channelId: string;
    channelKind: string;
    externalOrderId: string;
    currency: string;
    totalMinor: number;
    pointsEarned: number;
    placedAt: string;
  };
  [EventType.ORDER_RETURNED]: {
    orderId: string;
    returnId: string;
    memberId: string | null;
    externalReturnId: string;
    valueMinor: number;
    pointsClawedBack: number;
    orderStatus: string;
  };
  [EventType.POINTS_EARNED]: {
    memberId: string;
    points: number;
    sourceType: string;
    sourceId: string;
    lotId: string;
    isPending: boolean;
    availableAt: string;
    expiresAt: string;
  };
  [EventType.POINTS_EXPIRED]: { memberId: string; lotId: string; points: number; expiredAt: string };
  [EventType.POINTS_EXPIRING]: { memberId: string; lotId: string; points: number; expiresAt: string; daysAhead: number };
  [EventType.TIER_CHANGED]: { memberId: string; fromTier: string | null; toTier: string | null; reason: string };
  [EventType.TIER_AT_RISK]: {
    memberId: string;
    tier: string;
    expectedTier: string | null;
    retainUntil: string;
    metric: string;
    current: number;
    threshold: number;
  };
  [EventType.REWARD_REDEEMED]: { memberId: string; redemptionId: string; rewardId: string; points: number; status: string; expiresAt: string | null };
  /** Recorded by campaigns (issue 7) when a campaign is launched. */
  [EventType.CAMPAIGN_LAUNCHED]: {
    campaignId: string;
    segmentId: string;
    actionKind: string;
    actionKinds: string[];
    targetedMembers: number;
    holdoutMembers: number;
    budgetPoints: number | null;
    startsAt: string;
    endsAt: string | null;
  };
  /** No comment: it is free text and may hold personal data. */
  [EventType.FEEDBACK_RECORDED]: {
    feedbackId: string;
    memberId: string;
    kind: string;
    score: number;
    npsCategory: string | null;
    orderId: string | null;
    channelId: string;
    storeCode: string | null;
    givenAt: string;
  };
}

export const EVENT_TYPES: readonly EventType[] = Object.values(EventType);

/** When an event is recorded and what each field of its payload holds: one entry per field, no more, no fewer. */
export interface EventDoc<P> {
  when: string;
  fields: { readonly [F in keyof P]-?: string };
}

/**
 * What receivers are told about each core event: docs/reference/events.md is generated from it (`npm run docs`). Its
 * type follows EventPayloads, so a payload field added without a line here does not compile.
 */
export const EVENT_DOCS: { readonly [K in EventType]: EventDoc<EventPayloads[K]> } = {
  [EventType.MEMBER_ENROLLED]: {
    when: 'A member is enrolled (`enrolMember`, from a channel or the admin app). The importer records no events, this one included.',
    fields: {
      memberId: 'The new member.',
      enrolmentChannel: 'Kind of channel that enrolled them (`WEB`, `APP`, `STORE`, `MARKETPLACE`, `CALL_CENTER`, `ADMIN`).',
      enrolledAt: 'When they were enrolled.',
    },
  },
  [EventType.MEMBER_MERGED]: {
    when: 'Two records of one person are merged (`mergeMembers`); the absorbed id resolves to the survivor from then on.',
    fields: {
      survivorId: 'The member that remains.',
      absorbedId: 'The record merged into it, now `MERGED`.',
      movedIdentifiers: 'How many identifiers (email, phone, channel customer ids) moved to the survivor.',
    },
  },
  [EventType.MEMBER_ERASED]: {
    when: "A member is erased under GDPR's right to erasure (`eraseMember`). Receivers should erase their copies.",
    fields: { memberId: 'The erased member; the id stays, their personal data is gone.', erasedAt: 'When they were erased.' },
  },
  [EventType.ORDER_RECORDED]: {
    when: 'A channel records an order (`recordOrder`); a replay of the same order records nothing.',
    fields: {
      orderId: 'The stored order.',
      memberId: 'Its member; null for a guest order.',
      channelId: 'The sales channel that recorded it.',
      channelKind: 'That channel\'s kind (`WEB`, `APP`, `STORE`, `MARKETPLACE`, `CALL_CENTER`).',
      externalOrderId: "The channel's own order id.",
      currency: 'ISO 4217 code of the amounts.',
      totalMinor: 'Order total after discounts, in minor units.',
      pointsEarned: 'Points the order earned, campaign bonuses included (0 for a guest).',
      placedAt: 'When the order was placed.',
    },
  },
  [EventType.ORDER_RETURNED]: {
    when: 'A channel records a return (`recordReturn`), once per return id.',
    fields: {
      orderId: 'The order returned from.',
      returnId: 'The stored return.',
      memberId: "The order's member; null for a guest order.",
      externalReturnId: "The channel's own return id.",
      valueMinor: 'Value of what was returned, in minor units.',
      pointsClawedBack: 'Points the return took back.',
      orderStatus: 'The order afterwards: `PARTIALLY_RETURNED` or `RETURNED`.',
    },
  },
  [EventType.POINTS_EARNED]: {
    when: 'Points are credited as a lot: an order, a claimed guest order, a bonus campaign, a referral bonus or a plugin\'s member event.',
    fields: {
      memberId: 'The member credited.',
      points: 'Points in the lot.',
      sourceType: 'What earned them: `order`, `campaign`, `referral`, or a plugin\'s own source type.',
      sourceId: 'The id of that source (the order, campaign, referral, ...).',
      lotId: 'The lot; later `points.expiring` and `points.expired` events name it.',
      isPending: 'True while the lot waits out the return window (`pendingDays`).',
      availableAt: 'When the points become spendable.',
      expiresAt: 'When what is left of the lot expires.',
    },
  },
  [EventType.POINTS_EXPIRED]: {
    when: 'The points jobs expire what is left of a lot.',
    fields: { memberId: 'The lot\'s member.', lotId: 'The lot.', points: 'Points that expired.', expiredAt: 'When they expired.' },
  },
  [EventType.POINTS_EXPIRING]: {
    when: 'The points jobs find a lot expiring within `EVENTS_POINTS_EXPIRING_DAYS`; once per lot, so a channel can remind the member.',
    fields: {
      memberId: 'The lot\'s member.',
      lotId: 'The lot.',
      points: 'Points left in it.',
      expiresAt: 'When they expire.',
      daysAhead: 'Whole days from the announcement to the expiry, rounded up.',
    },
  },
  [EventType.TIER_CHANGED]: {
    when: "A member's tier changes: an upgrade on a qualifying order, a period ending in a downgrade (points jobs), or a merge.",
    fields: {
      memberId: 'The member.',
      fromTier: 'Tier code before; null for no tier.',
      toTier: 'Tier code after; null for no tier.',
      reason: '`QUALIFIED`, `PERIOD_ENDED` or `MERGE`.',
    },
  },
  [EventType.TIER_AT_RISK]: {
    when: "The points jobs' tier pass finds a member whose qualification period ends within `EVENTS_TIER_AT_RISK_DAYS` in a downgrade; once per member and period.",
    fields: {
      memberId: 'The member.',
      tier: 'Their tier now.',
      expectedTier: 'The tier their metric admits at the period end; null for none.',
      retainUntil: 'When the period ends.',
      metric: 'What tiers qualify on: `POINTS_EARNED` or `SPEND_MINOR`.',
      current: 'The metric as it stands at the period end.',
      threshold: 'What the current tier needs.',
    },
  },
  [EventType.REWARD_REDEEMED]: {
    when: 'A member redeems a reward (`redeemReward`), or a contributor grants them one (0 points).',
    fields: {
      memberId: 'The member.',
      redemptionId: 'The redemption (its voucher code is never sent).',
      rewardId: 'The reward.',
      points: 'Points spent.',
      status: '`ISSUED` (a voucher to use), or `CONSUMED` for a reward fulfilled at once.',
      expiresAt: 'When an unused voucher lapses; null when there is none.',
    },
  },
  [EventType.CAMPAIGN_LAUNCHED]: {
    when: 'A campaign is launched (`launchCampaign`), in its transaction.',
    fields: {
      campaignId: 'The campaign.',
      segmentId: 'The segment it targets.',
      actionKind: 'The first of `actionKinds` (kept for subscribers written when a campaign had one action).',
      actionKinds: 'What treated members get: one or more of `BONUS_POINTS`, `OFFER` and `MESSAGE`, in that order.',
      targetedMembers: 'Members fixed at launch, treated and held out together.',
      holdoutMembers: 'Of those, the ones held out.',
      budgetPoints: 'Points budget of a bonus campaign; null for no cap.',
      startsAt: 'When it starts.',
      endsAt: 'When it ends; null for no end.',
    },
  },
  [EventType.FEEDBACK_RECORDED]: {
    when: 'A channel or an admin records an NPS or CSAT answer (`recordFeedback`). Never the comment: free text can name the person.',
    fields: {
      feedbackId: 'The answer.',
      memberId: 'Who answered.',
      kind: '`NPS` or `CSAT`.',
      score: '0–10 (NPS) or 1–5 (CSAT).',
      npsCategory: '`PROMOTER`, `PASSIVE` or `DETRACTOR` for NPS; null for CSAT.',
      orderId: 'The order it is about; null for a channel or store answer.',
      channelId: 'The channel it is about.',
      storeCode: 'The store it is about, as the channel codes it; null for none.',
      givenAt: 'When the member answered.',
    },
  },
};

/**
 * An event type a plugin declares: its wire name and what it means. `P` is the payload's shape, carried in the type
 * only, so that `EventService.recordEvent(em, type, payload, …)` checks the payload where the plugin records it.
 */
export interface EventTypeDefinition<P extends object = Record<string, unknown>> {
  /** Lower dotted, at most 64 characters (`activity.recorded`); sent as `x-loyalty-event`. */
  readonly name: string;
  readonly description: string;
  /** Never set: it carries `P`. */
  readonly payload?: P;
}

/** Declares an event type of a plugin; `P` is the payload receivers get (ids and facts, never personal data). */
export function defineEventType<P extends object>(name: string, description: string): EventTypeDefinition<P> {
  return { name, description };
}

/** A registered event type as GraphQL lists it: `key` is the EventType enum value's name (ACTIVITY_RECORDED). */
export interface EventTypeInfo {
  name: string;
  key: string;
  description: string | null;
  isCore: boolean;
}

const WIRE_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/** The GraphQL enum value name of a wire name: `activity.recorded` is ACTIVITY_RECORDED. */
export const eventTypeKey = (name: string) => name.replace(/\./g, '_').toUpperCase();

/**
 * Every event type of one app: the core's (the EventType enum) and those plugins declared. The outbox, webhooks and
 * subscribers work on wire names, so a plugin's type is recorded, subscribed to and delivered like a core one.
 */
export class EventTypes {
  private readonly byName = new Map<string, EventTypeInfo>();

  constructor() {
    for (const [key, name] of Object.entries(EventType)) this.byName.set(name, { name, key, description: null, isCore: true });
  }

  /** Throws when the name is malformed or taken (by the core or by `owner`'s predecessors). */
  register(def: EventTypeDefinition<object>, owner: string): void {
    const name = def?.name;
    if (typeof name !== 'string' || !WIRE_NAME.test(name) || name.length > 64) {
      throw new Error(`event type ${JSON.stringify(name)} of ${owner} must be lower.dotted (a-z, 0-9, _), at most 64 characters`);
    }
    if (typeof def.description !== 'string' || !def.description.trim()) throw new Error(`event type ${name} of ${owner} needs a description`);
    const key = eventTypeKey(name);
    const clash = [...this.byName.values()].find((t) => t.name === name || t.key === key);
    if (clash) throw new Error(`event type ${name} of ${owner} clashes with ${clash.isCore ? 'the core' : 'another plugin'}'s ${clash.name}`);
    this.byName.set(name, { name, key, description: def.description, isCore: false });
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  list(): EventTypeInfo[] {
    return [...this.byName.values()];
  }
}
