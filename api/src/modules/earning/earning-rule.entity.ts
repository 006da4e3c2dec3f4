import { Entity, Enum, PrimaryKey, Property, Unique, type Opt } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISOResolver, JSONObjectResolver } from 'graphql-scalars';
import { newId } from '../../base/ids';
import { SalesChannelKind } from '../../base/enums';

/**
 * The built-in kinds, evaluated in this order (modules/earning/engine.ts). Plugins add kinds (modules/earning/rule-kinds.ts): the
 * GraphQL enum of a running API lists them too, built from the registry (graphql/schema.ts).
 */
export enum EarningRuleKind {
  BASE_RATE = 'BASE_RATE',
  CATEGORY_MULTIPLIER = 'CATEGORY_MULTIPLIER',
  PRODUCT_MULTIPLIER = 'PRODUCT_MULTIPLIER',
  CHANNEL_MULTIPLIER = 'CHANNEL_MULTIPLIER',
  BONUS = 'BONUS',
  ORDER_CAP = 'ORDER_CAP',
  DAILY_CAP = 'DAILY_CAP',
}
registerEnumType(EarningRuleKind, {
  name: 'EarningRuleKind',
  valuesConfig: {
    BASE_RATE: { description: '`points` per `perMinor` minor units of `currency`, per line.' },
    CATEGORY_MULTIPLIER: { description: 'Lines of `category` earn `multiplierPercent`% of their base points in total.' },
    PRODUCT_MULTIPLIER: { description: 'Lines of `sku` earn `multiplierPercent`% of their base points in total.' },
    CHANNEL_MULTIPLIER: { description: 'Orders from `channelKind` earn `multiplierPercent`% of base.' },
    BONUS: { description: 'Between startsAt and endsAt (and on daysOfWeek, 0 = Sunday, UTC): a multiplier or `fixedPoints` per order.' },
    ORDER_CAP: { description: 'At most `capPoints` per order.' },
    DAILY_CAP: { description: 'At most `capPoints` per member per UTC day, across orders.' },
  },
});

/**
 * A versioned rule. Changing a rule writes a new version and closes the old one (`supersededAt`), so each
 * order's breakdown keeps pointing at the exact version that produced its points.
 */
@ObjectType()
@Entity({ tableName: 'earning_rule' })
@Unique({ properties: ['ruleKey', 'version'] })
export class EarningRule {
  @Field(() => ID, { description: 'This version.' })
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @Field(() => ID, { description: 'Stable across versions.' })
  @Property({ type: 'uuid', index: true })
  ruleKey: string;

  @Field(() => Int)
  @Property({ type: 'integer' })
  version: number;

  @Field(() => String)
  @Property({ type: 'string', length: 100 })
  name: string;

  /** A built-in EarningRuleKind or a plugin's kind: text, as plugins come and go without a migration. */
  @Field(() => EarningRuleKind)
  @Property({ type: 'string', length: 64 })
  kind: EarningRuleKind | string;

  @Field(() => Int, { description: 'Ties within a kind: higher first.' })
  @Property({ type: 'integer', default: 0 })
  priority: Opt<number> = 0;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 3, nullable: true })
  currency: string | null = null;

  @Field(() => Int, { nullable: true })
  @Property({ type: 'integer', nullable: true })
  points: number | null = null;

  @Field(() => Int, { nullable: true })
  @Property({ type: 'integer', nullable: true })
  perMinor: number | null = null;

  @Field(() => Int, { nullable: true, description: '200 doubles the base points of what it applies to.' })
  @Property({ type: 'integer', nullable: true })
  multiplierPercent: number | null = null;

  @Field(() => Int, { nullable: true })
  @Property({ type: 'integer', nullable: true })
  fixedPoints: number | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 100, nullable: true })
  category: string | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 64, nullable: true })
  sku: string | null = null;

  @Field(() => SalesChannelKind, { nullable: true })
  @Enum({ items: () => SalesChannelKind, nullable: true })
  channelKind: SalesChannelKind | null = null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  startsAt: Date | null = null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  endsAt: Date | null = null;

  @Field(() => [Int], { nullable: true })
  @Property({ type: 'integer[]', nullable: true })
  daysOfWeek: number[] | null = null;

  @Field(() => Int, { nullable: true })
  @Property({ type: 'integer', nullable: true })
  capPoints: number | null = null;

  @Field(() => JSONObjectResolver, { nullable: true, description: "A plugin kind's arguments, as validated against its params (earningRuleKinds); null for the built-in kinds." })
  @Property({ type: 'json', nullable: true })
  params: Record<string, unknown> | null = null;

  @Field(() => Boolean)
  @Property({ type: 'boolean' })
  isActive: boolean;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'Set when a newer version replaced this one.' })
  @Property({ type: 'datetime', nullable: true })
  supersededAt: Date | null = null;

  @Field(() => String)
  @Property({ type: 'string', length: 80 })
  createdBy: string;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();
}
