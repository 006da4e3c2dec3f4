/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** What became of a recorded activity. */
export type ActivityOutcome =
  /** The member had as many credited as capPerDay on that local day (the programme's time zone). */
  | 'CAPPED_DAY'
  /** The member had as many credited as capLifetime. */
  | 'CAPPED_LIFETIME'
  /** The member had as many credited as capPerWeek in that local Monday-to-Sunday week. */
  | 'CAPPED_WEEK'
  /** Its type's points were credited. */
  | 'CREDITED'
  /** The member is not in the type's tiers or segment. */
  | 'NOT_ELIGIBLE'
  /** The type gives 0 points: recorded only. */
  | 'NO_POINTS'
  /** Another credited activity of the type is less than minGapMinutes away. */
  | 'TOO_SOON';

export type ConsentInput = {
  isGranted: boolean;
  medium: ConsentMedium;
};

/** A marketing channel that needs consent. */
export type ConsentMedium =
  | 'EMAIL'
  | 'PUSH'
  | 'SMS';

/** At least one of email, phone or channelCustomerId is required. */
export type EnrolMemberInput = {
  birthday?: string | null | undefined;
  /** The channel's own customer id, e.g. a loyalty card number. */
  channelCustomerId?: string | null | undefined;
  /** Admin callers: the sales channel that owns channelCustomerId. Channel callers use their own. */
  channelId?: string | number | null | undefined;
  /** Marketing consents to record now. */
  consents?: Array<ConsentInput> | null | undefined;
  /** ISO 3166-1 alpha-2, e.g. GB. */
  country?: string | null | undefined;
  email?: string | null | undefined;
  firstName?: string | null | undefined;
  lastName?: string | null | undefined;
  /** E.164, or national format in DEFAULT_PHONE_REGION. */
  phone?: string | null | undefined;
  preferredChannel?: SalesChannelKind | null | undefined;
  preferredStoreCode?: string | null | undefined;
  /** Another member's referral code (docs/concepts/referrals.md). */
  referralCode?: string | null | undefined;
};

export type IdentifierType =
  | 'CHANNEL_CUSTOMER_ID'
  | 'EMAIL'
  | 'PHONE';

/** Who placed the order: by id, or by an identifier the channel knows. */
export type MemberRefInput = {
  id?: string | number | null | undefined;
  identifierType?: IdentifierType | null | undefined;
  identifierValue?: string | null | undefined;
};

export type MemberStatus =
  | 'ACTIVE'
  | 'ERASED'
  | 'MERGED';

export type OrderLineInput = {
  brand?: string | null | undefined;
  category?: string | null | undefined;
  /** Minor units, 0 to quantity × unitPriceMinor. */
  discountMinor?: number;
  /** Used to create the product when the SKU is new. */
  name?: string | null | undefined;
  /** 1 to 10,000; quantity × unitPriceMinor at most 1,000,000,000. */
  quantity: number;
  sku: string;
  /** Minor units, 0 to 1,000,000,000. */
  unitPriceMinor: number;
};

export type OrderStatus =
  | 'COMPLETED'
  | 'PARTIALLY_RETURNED'
  | 'RETURNED';

/** An activity a channel records for a member. */
export type RecordActivityInput = {
  /** What else the channel knows (a review's rating, a store code): at most 4096 bytes of JSON, 4 levels deep. */
  attributes?: Record<string, unknown> | null | undefined;
  /** The channel's own id for this activity (1 to 100 characters): a replay returns the stored activity and credits once. */
  idempotencyKey: string;
  /** By id, or by an identifier; a merged member is credited on the survivor. */
  member: MemberRefInput;
  /** When the member did it: now when left out; at most 5 minutes ahead and 90 days back. */
  occurredAt?: string | null | undefined;
  /** An active activity type code (activityTypes); otherwise ACTIVITY_TYPE_UNKNOWN. */
  type: string;
};

export type RecordOrderInput = {
  /** Admin callers: the sales channel. Channel callers use their own. */
  channelId?: string | number | null | undefined;
  /** ISO 4217, e.g. GBP. */
  currency: string;
  /** The channel's own order id; replays with the same id return the stored order. */
  externalOrderId: string;
  /** 1 to 500 lines, together at most 1,000,000,000 minor units after line discounts. */
  lines: Array<OrderLineInput>;
  /** Omit for a guest order, which a member can claim later. */
  member?: MemberRefInput | null | undefined;
  /** Minor units, 0 to the sum of the lines. */
  orderDiscountMinor?: number;
  placedAt: string;
  storeCode?: string | null | undefined;
  /** What the channel charged, in minor units (0 to 1,000,000,000); must equal the lines less discounts. */
  totalMinor: number;
};

export type RedeemRewardInput = {
  /** A retry with the same key returns the first redemption. */
  idempotencyKey: string;
  memberId: string | number;
  rewardId: string | number;
};

export type RedemptionStatus =
  | 'CANCELLED'
  | 'CONSUMED'
  | 'EXPIRED'
  | 'ISSUED';

export type RewardKind =
  /** Points given to a cause: completed at once, no voucher to use. */
  | 'DONATION'
  /** An amount off an order at a checkout, in minor units of a currency. */
  | 'FIXED_DISCOUNT'
  /** A product given free at a checkout: the SKU. */
  | 'FREE_PRODUCT'
  /** A partner's offer, redeemed with the voucher at the partner. */
  | 'PARTNER'
  /** A percentage off an order at a checkout. */
  | 'PERCENT_DISCOUNT';

/** Where a member or order came from. */
export type SalesChannelKind =
  | 'ADMIN'
  | 'APP'
  | 'CALL_CENTER'
  | 'MARKETPLACE'
  | 'STORE'
  | 'WEB';

export type RecordActivityMutationVariables = Exact<{
  input: RecordActivityInput;
}>;


export type RecordActivityMutation = { recordActivity: { id: string, memberId: string, type: string, occurredAt: string, points: number, outcome: ActivityOutcome } };

export type ActivityTypesQueryVariables = Exact<{ [key: string]: never; }>;


export type ActivityTypesQuery = { activityTypes: Array<{ code: string, name: string, points: number, channelKinds: Array<SalesChannelKind>, isActive: boolean }> };

export type EnrolMemberMutationVariables = Exact<{
  input: EnrolMemberInput;
}>;


export type EnrolMemberMutation = { enrolMember: { id: string, email: string | null, phone: string | null, firstName: string | null, lastName: string | null, enrolmentChannel: SalesChannelKind, points: { available: number, pending: number } } };

export type FindMemberQueryVariables = Exact<{
  type: IdentifierType;
  value: string;
}>;


export type FindMemberQuery = { memberByIdentifier: { id: string, firstName: string | null, email: string | null, status: MemberStatus } | null };

export type MemberAccountQueryVariables = Exact<{
  id: string | number;
  ordersFirst?: number | null | undefined;
  rewardsFirst?: number | null | undefined;
}>;


export type MemberAccountQuery = { member: { id: string, firstName: string | null, lastName: string | null, email: string | null, phone: string | null, status: MemberStatus, points: { available: number, pending: number, lifetime: number, nextExpiry: { points: number, expiresAt: string } | null }, tier: { code: string, name: string, benefitFlags: Array<string> } | null, tierProgress: { current: number, missing: number | null, nextTier: { code: string, name: string, threshold: number } | null }, benefits: { earnMultiplierPercent: number, flags: Array<string> }, orders: { edges: Array<{ node: { id: string, externalOrderId: string, status: OrderStatus, placedAt: string, currency: string, totalMinor: number, pointsEarned: number, pointsClawedBack: number, lines: Array<{ lineNo: number, sku: string, quantity: number, netMinor: number }> } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } }, redemptions: Array<{ id: string, status: RedemptionStatus, voucherCode: string | null, expiresAt: string | null, reward: { id: string, name: string } }>, recommendedRewards: Array<{ canAffordNow: boolean, pointsShort: number, reason: string, reward: { id: string, code: string, name: string, costPoints: number } }> } };

export type MemberRecommendationsQueryVariables = Exact<{
  id: string | number;
  first?: number | null | undefined;
}>;


export type MemberRecommendationsQuery = { member: { id: string, recommendations: Array<{ rank: number, reason: string, product: { sku: string, name: string, priceMinor: number | null, currency: string | null } }> } };

export type RewardsQueryVariables = Exact<{ [key: string]: never; }>;


export type RewardsQuery = { rewards: Array<{ id: string, code: string, name: string, kind: RewardKind, costPoints: number, stock: number | null, tierCodes: Array<string> }> };

export type RecordOrderMutationVariables = Exact<{
  input: RecordOrderInput;
}>;


export type RecordOrderMutation = { recordOrder: { id: string, externalOrderId: string, status: OrderStatus, placedAt: string, currency: string, totalMinor: number, pointsEarned: number, pointsClawedBack: number, pointsBreakdown: Array<{ kind: string, label: string, points: number }>, lines: Array<{ lineNo: number, sku: string, quantity: number, netMinor: number }> } };

export type RedeemRewardMutationVariables = Exact<{
  input: RedeemRewardInput;
}>;


export type RedeemRewardMutation = { redeemReward: { id: string, status: RedemptionStatus, points: number, voucherCode: string | null, expiresAt: string | null } };

export type OrderSummaryFragment = { id: string, externalOrderId: string, status: OrderStatus, placedAt: string, currency: string, totalMinor: number, pointsEarned: number, pointsClawedBack: number, lines: Array<{ lineNo: number, sku: string, quantity: number, netMinor: number }> };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const OrderSummaryFragmentDoc = new TypedDocumentString(`
    fragment OrderSummary on Order {
  id
  externalOrderId
  status
  placedAt
  currency
  totalMinor
  pointsEarned
  pointsClawedBack
  lines {
    lineNo
    sku
    quantity
    netMinor
  }
}
    `, {"fragmentName":"OrderSummary"}) as unknown as TypedDocumentString<OrderSummaryFragment, unknown>;
export const RecordActivityDocument = new TypedDocumentString(`
    mutation RecordActivity($input: RecordActivityInput!) {
  recordActivity(input: $input) {
    id
    memberId
    type
    occurredAt
    points
    outcome
  }
}
    `, {"hash":"9878e6aca3743b393dce050d891694bdaaad959108c63d39a5c04aa6b40d0e7b"}) as unknown as TypedDocumentString<RecordActivityMutation, RecordActivityMutationVariables>;
export const ActivityTypesDocument = new TypedDocumentString(`
    query ActivityTypes {
  activityTypes {
    code
    name
    points
    channelKinds
    isActive
  }
}
    `, {"hash":"d31a4a810c288858f552650b27b0431d54fb2469bfabec0bcfb3656877265f90"}) as unknown as TypedDocumentString<ActivityTypesQuery, ActivityTypesQueryVariables>;
export const EnrolMemberDocument = new TypedDocumentString(`
    mutation EnrolMember($input: EnrolMemberInput!) {
  enrolMember(input: $input) {
    id
    email
    phone
    firstName
    lastName
    enrolmentChannel
    points {
      available
      pending
    }
  }
}
    `, {"hash":"a8b4c386347317bb8fc395eb671186ddb6063029dc07075f74def05e16fda69a"}) as unknown as TypedDocumentString<EnrolMemberMutation, EnrolMemberMutationVariables>;
export const FindMemberDocument = new TypedDocumentString(`
    query FindMember($type: IdentifierType!, $value: String!) {
  memberByIdentifier(type: $type, value: $value) {
    id
    firstName
    email
    status
  }
}
    `, {"hash":"83b4f8b62bebbf9a8ed76d738cac97450564b371f46adcc6becee3d9e798674a"}) as unknown as TypedDocumentString<FindMemberQuery, FindMemberQueryVariables>;
export const MemberAccountDocument = new TypedDocumentString(`
    query MemberAccount($id: ID!, $ordersFirst: Int = 10, $rewardsFirst: Int = 5) {
  member(id: $id) {
    id
    firstName
    lastName
    email
    phone
    status
    points {
      available
      pending
      lifetime
      nextExpiry {
        points
        expiresAt
      }
    }
    tier {
      code
      name
      benefitFlags
    }
    tierProgress {
      current
      missing
      nextTier {
        code
        name
        threshold
      }
    }
    benefits {
      earnMultiplierPercent
      flags
    }
    orders(first: $ordersFirst) {
      edges {
        node {
          ...OrderSummary
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
    redemptions {
      id
      status
      voucherCode
      expiresAt
      reward {
        id
        name
      }
    }
    recommendedRewards(first: $rewardsFirst) {
      canAffordNow
      pointsShort
      reason
      reward {
        id
        code
        name
        costPoints
      }
    }
  }
}
    fragment OrderSummary on Order {
  id
  externalOrderId
  status
  placedAt
  currency
  totalMinor
  pointsEarned
  pointsClawedBack
  lines {
    lineNo
    sku
    quantity
    netMinor
  }
}`, {"hash":"8f57ec586ac1de12e6e99aea2f7b027887c7d81298215ae3e6cbaca09026ba77"}) as unknown as TypedDocumentString<MemberAccountQuery, MemberAccountQueryVariables>;
export const MemberRecommendationsDocument = new TypedDocumentString(`
    query MemberRecommendations($id: ID!, $first: Int = 10) {
  member(id: $id) {
    id
    recommendations(first: $first, excludePurchased: true) {
      rank
      reason
      product {
        sku
        name
        priceMinor
        currency
      }
    }
  }
}
    `, {"hash":"25b4e9e2658cd78230c88cc8b40ecca995978a70299acbcb30199e2d66b8b48e"}) as unknown as TypedDocumentString<MemberRecommendationsQuery, MemberRecommendationsQueryVariables>;
export const RewardsDocument = new TypedDocumentString(`
    query Rewards {
  rewards(activeOnly: true) {
    id
    code
    name
    kind
    costPoints
    stock
    tierCodes
  }
}
    `, {"hash":"1f68b75e05ad7c3db498cd8022b3be84b84d0b9d03394514321cb259e07d4294"}) as unknown as TypedDocumentString<RewardsQuery, RewardsQueryVariables>;
export const RecordOrderDocument = new TypedDocumentString(`
    mutation RecordOrder($input: RecordOrderInput!) {
  recordOrder(input: $input) {
    ...OrderSummary
    pointsBreakdown {
      kind
      label
      points
    }
  }
}
    fragment OrderSummary on Order {
  id
  externalOrderId
  status
  placedAt
  currency
  totalMinor
  pointsEarned
  pointsClawedBack
  lines {
    lineNo
    sku
    quantity
    netMinor
  }
}`, {"hash":"7bc936d0ca8a88f144562a6e073fde68dad3e39d964aabdcdcd5d3746a1fd1f5"}) as unknown as TypedDocumentString<RecordOrderMutation, RecordOrderMutationVariables>;
export const RedeemRewardDocument = new TypedDocumentString(`
    mutation RedeemReward($input: RedeemRewardInput!) {
  redeemReward(input: $input) {
    id
    status
    points
    voucherCode
    expiresAt
  }
}
    `, {"hash":"057f1be74cdee2d1ac067b85704fa7fc39194ba2df1de354d8188b43c483ec36"}) as unknown as TypedDocumentString<RedeemRewardMutation, RedeemRewardMutationVariables>;