import type { EntityManager } from '@mikro-orm/postgresql';
import { REWARD_KIND_DESCRIPTIONS, type Reward } from './reward.entity';

/** The reward's own fields a kind can require on create and update. */
export type RewardField = 'sku' | 'valueMinor' | 'currency' | 'percentOff' | 'partner';

/**
 * How a redemption of the kind completes. `VOUCHER`: it is ISSUED with a voucher code the member spends at a checkout
 * (consumeVoucher) before it expires, and can be cancelled until then. `AT_ONCE`: it is CONSUMED when redeemed, with
 * no voucher (a donation, a partner credit done by `fulfil`).
 */
export type RewardCompletion = 'VOUCHER' | 'AT_ONCE';

/** What `fulfil` gets: the redemption's own transaction and what it is about to commit. */
export interface RewardFulfilContext {
  /** The redemption's transaction: rows written with it commit with the points spent, or not at all. */
  em: EntityManager;
  reward: Reward;
  memberId: string;
  redemptionId: string;
  /** Points spent (a campaign offer may make it less than the reward's cost). */
  points: number;
  now: Date;
}

/** A reward kind: built in (below) or added by a plugin (`LoyaltyPlugin.rewardKinds`). */
export interface RewardKindDefinition {
  /** UPPER_SNAKE, at most 32 characters, unique across core and plugins; the value of Reward.kind. */
  kind: string;
  label: string;
  description: string;
  completion: RewardCompletion;
  /** Fields a reward of this kind must set. */
  requires?: readonly RewardField[];
  /**
   * Called in the redemption's transaction after the points are spent and before it commits. What it returns is kept
   * as the redemption's `fulfilment` (a gift card's number, a booking reference), readable by callers who may read
   * voucher codes. Throwing rolls the redemption back: the member keeps their points, the caller gets the error. Work
   * outside the database (a provider's API) is better done by an outbox subscriber on `reward.redeemed`.
   */
  fulfil?(ctx: RewardFulfilContext): Promise<Record<string, unknown> | void>;
}

export const BUILT_IN_REWARD_KINDS: readonly RewardKindDefinition[] = [
  { kind: 'FREE_PRODUCT', label: 'Free product', description: REWARD_KIND_DESCRIPTIONS.FREE_PRODUCT, completion: 'VOUCHER', requires: ['sku'] },
  {
    kind: 'FIXED_DISCOUNT',
    label: 'Fixed discount',
    description: REWARD_KIND_DESCRIPTIONS.FIXED_DISCOUNT,
    completion: 'VOUCHER',
    requires: ['valueMinor', 'currency'],
  },
  { kind: 'PERCENT_DISCOUNT', label: 'Percent discount', description: REWARD_KIND_DESCRIPTIONS.PERCENT_DISCOUNT, completion: 'VOUCHER', requires: ['percentOff'] },
  { kind: 'PARTNER', label: 'Partner reward', description: REWARD_KIND_DESCRIPTIONS.PARTNER, completion: 'VOUCHER', requires: ['partner'] },
  { kind: 'DONATION', label: 'Donation', description: REWARD_KIND_DESCRIPTIONS.DONATION, completion: 'AT_ONCE', requires: ['partner'] },
];

const KIND = /^[A-Z][A-Z0-9_]{0,31}$/;

/** Every reward kind this process knows: the built-in ones, then the plugins' in the order given. */
export class RewardKindRegistry {
  private readonly kinds = new Map<string, RewardKindDefinition>();

  constructor(added: readonly RewardKindDefinition[] = []) {
    for (const definition of [...BUILT_IN_REWARD_KINDS, ...added]) {
      if (!KIND.test(definition.kind)) throw new Error(`Reward kind '${definition.kind}' must be UPPER_SNAKE, at most 32 characters`);
      if (this.kinds.has(definition.kind)) throw new Error(`Reward kind '${definition.kind}' is registered twice`);
      this.kinds.set(definition.kind, definition);
    }
  }

  get(kind: string): RewardKindDefinition | undefined {
    return this.kinds.get(kind);
  }

  all(): RewardKindDefinition[] {
    return [...this.kinds.values()];
  }

  /** Kinds beyond the built-in ones: the schema adds them to the RewardKind enum (graphql/schema.ts). */
  added(): RewardKindDefinition[] {
    return this.all().filter((d) => !BUILT_IN_REWARD_KINDS.some((b) => b.kind === d.kind));
  }
}
