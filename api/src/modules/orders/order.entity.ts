import { Collection, Entity, Enum, Index, ManyToOne, OneToMany, PrimaryKey, Property, type Opt, type Ref } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { newId } from '../../base/ids';
import { SalesChannelKind } from '../../base/enums';
import type { Member } from '../members/member.entity';
import type { SalesChannel } from '../channels/sales-channel.entity';
import { OrderLine } from './order-line.entity';
import { PointsBreakdownItem } from '../earning/earning.types';

export enum OrderStatus {
  COMPLETED = 'COMPLETED',
  PARTIALLY_RETURNED = 'PARTIALLY_RETURNED',
  RETURNED = 'RETURNED',
}
registerEnumType(OrderStatus, { name: 'OrderStatus' });

@ObjectType({ description: 'An order from a sales channel, with the points it earned.' })
@Entity({ tableName: 'customer_order' })
@Index({ properties: ['member', 'placedAt'] })
export class Order {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  /** `<channel id>:<channel's order id>`: a replay finds the stored order. */
  @Property({ type: 'string', length: 180, unique: true })
  idempotencyKey: string;

  /** SHA-256 of the normalised request, to tell an honest replay from a different order under the same id. */
  @Property({ type: 'string', length: 64 })
  bodyHash: string;

  @ManyToOne('SalesChannel', { ref: true })
  channel: Ref<SalesChannel>;

  @Field(() => SalesChannelKind)
  @Enum({ items: () => SalesChannelKind })
  channelKind: SalesChannelKind;

  @Field(() => String)
  @Property({ type: 'string', length: 100 })
  externalOrderId: string;

  @ManyToOne('Member', { ref: true, nullable: true })
  member: Ref<Member> | null = null;

  @Field(() => OrderStatus)
  @Enum({ items: () => OrderStatus })
  status: Opt<OrderStatus> = OrderStatus.COMPLETED;

  @Field(() => String)
  @Property({ type: 'string', length: 3 })
  currency: string;

  @Field(() => Int, { description: 'Sum of line totals after line discounts.' })
  @Property({ type: 'integer' })
  subtotalMinor: number;

  @Field(() => Int)
  @Property({ type: 'integer' })
  orderDiscountMinor: number;

  @Field(() => Int)
  @Property({ type: 'integer' })
  totalMinor: number;

  @Field(() => Int, { description: 'Value returned so far.' })
  @Property({ type: 'integer', default: 0 })
  returnedMinor: Opt<number> = 0;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 64, nullable: true })
  storeCode: string | null = null;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  placedAt: Date;

  @Field(() => Int, { description: 'Points credited for this order (0 for an unclaimed guest order).' })
  @Property({ type: 'integer', default: 0 })
  pointsEarned: Opt<number> = 0;

  @Field(() => Int)
  @Property({ type: 'integer', default: 0 })
  pointsClawedBack: Opt<number> = 0;

  /** The order value the points were computed on, and the value already returned at that moment. */
  @Property({ type: 'integer', default: 0 })
  pointsBasisMinor: Opt<number> = 0;

  @Property({ type: 'integer', default: 0 })
  returnedAtCreditMinor: Opt<number> = 0;

  @Field(() => [PointsBreakdownItem], { description: 'Which rule produced which points.' })
  @Property({ type: 'json' })
  pointsBreakdown: Opt<PointsBreakdownItem[]> = [];

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'When a guest order was claimed by a member.' })
  @Property({ type: 'datetime', nullable: true })
  claimedAt: Date | null = null;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @OneToMany(() => OrderLine, (l) => l.order, { orderBy: { lineNo: 'asc' } })
  lines = new Collection<OrderLine>(this);
}
