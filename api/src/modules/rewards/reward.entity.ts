import { Entity, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { newId } from '../../base/ids';

/**
 * The built-in reward kinds, for code that names one. The kinds a reward may have are those of the registry
 * (reward-kinds.ts), plugins' included; the GraphQL enum is built from it (graphql/schema.ts).
 */
export enum RewardKind {
  FREE_PRODUCT = 'FREE_PRODUCT',
  FIXED_DISCOUNT = 'FIXED_DISCOUNT',
  PERCENT_DISCOUNT = 'PERCENT_DISCOUNT',
  PARTNER = 'PARTNER',
  /** Points given to a cause: completed at once, no voucher to use. */
  DONATION = 'DONATION',
}

/** What each built-in kind is: the GraphQL enum's descriptions and the registry's (reward-kinds.ts). */
export const REWARD_KIND_DESCRIPTIONS: Record<RewardKind, string> = {
  FREE_PRODUCT: 'A product given free at a checkout: the SKU.',
  FIXED_DISCOUNT: 'An amount off an order at a checkout, in minor units of a currency.',
  PERCENT_DISCOUNT: 'A percentage off an order at a checkout.',
  PARTNER: "A partner's offer, redeemed with the voucher at the partner.",
  DONATION: 'Points given to a cause: completed at once, no voucher to use.',
};
registerEnumType(RewardKind, {
  name: 'RewardKind',
  valuesConfig: Object.fromEntries(Object.entries(REWARD_KIND_DESCRIPTIONS).map(([kind, description]) => [kind, { description }])),
});

@ObjectType({ description: 'Something members can spend points on.' })
@Entity({ tableName: 'reward' })
export class Reward {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @Field(() => String)
  @Property({ type: 'string', length: 32, unique: true })
  code: string;

  @Field(() => String)
  @Property({ type: 'string', length: 100 })
  name: string;

  /** A kind of the registry (reward-kinds.ts): built in (RewardKind) or a plugin's. */
  @Field(() => RewardKind)
  @Property({ type: 'text' })
  kind: string;

  @Field(() => Int)
  @Property({ type: 'integer' })
  costPoints: number;

  @Field(() => String, { nullable: true, description: 'FREE_PRODUCT: the SKU given.' })
  @Property({ type: 'string', length: 64, nullable: true })
  sku: string | null = null;

  @Field(() => Int, { nullable: true, description: 'FIXED_DISCOUNT: amount off in minor units of currency.' })
  @Property({ type: 'integer', nullable: true })
  valueMinor: number | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 3, nullable: true })
  currency: string | null = null;

  @Field(() => Int, { nullable: true, description: 'PERCENT_DISCOUNT: 1–100.' })
  @Property({ type: 'integer', nullable: true })
  percentOff: number | null = null;

  @Field(() => String, { nullable: true, description: 'PARTNER or DONATION: who receives it.' })
  @Property({ type: 'string', length: 100, nullable: true })
  partner: string | null = null;

  @Field(() => Int, { nullable: true, description: 'Null: unlimited.' })
  @Property({ type: 'integer', nullable: true })
  stock: number | null = null;

  @Field(() => Int)
  @Property({ type: 'integer', default: 0 })
  redeemedCount: Opt<number> = 0;

  @Field(() => Int, { nullable: true, description: 'Redemptions per member that are not cancelled.' })
  @Property({ type: 'integer', nullable: true })
  perMemberLimit: number | null = null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  validFrom: Date | null = null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  validTo: Date | null = null;

  @Field(() => [String], { description: 'Tier codes allowed; empty for everyone.' })
  @Property({ type: 'text[]' })
  tierCodes: Opt<string[]> = [];

  @Field(() => Boolean)
  @Property({ type: 'boolean', default: true })
  isActive: Opt<boolean> = true;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();
}
