import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property, type Opt, type Ref } from '@mikro-orm/core';
import { Authorized, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { newId } from '../../base/ids';
import { SalesChannelKind } from '../../base/enums';
import { Permission } from '../auth/permissions';
import type { Member } from '../members/member.entity';
import type { SalesChannel } from '../channels/sales-channel.entity';
import type { Order } from '../orders/order.entity';

export enum FeedbackKind {
  /** Net Promoter Score: "how likely are you to recommend us", 0 to 10. */
  NPS = 'NPS',
  /** Customer satisfaction with one experience, 1 to 5. */
  CSAT = 'CSAT',
}
registerEnumType(FeedbackKind, { name: 'FeedbackKind', description: 'NPS (0-10) or CSAT (1-5).' });

export enum NpsCategory {
  /** 9 or 10. */
  PROMOTER = 'PROMOTER',
  /** 7 or 8. */
  PASSIVE = 'PASSIVE',
  /** 0 to 6. */
  DETRACTOR = 'DETRACTOR',
}
registerEnumType(NpsCategory, { name: 'NpsCategory', description: 'PROMOTER 9-10, PASSIVE 7-8, DETRACTOR 0-6.' });

export const SCORE_RANGE: Record<FeedbackKind, { min: number; max: number }> = {
  [FeedbackKind.NPS]: { min: 0, max: 10 },
  [FeedbackKind.CSAT]: { min: 1, max: 5 },
};

export function npsCategory(score: number): NpsCategory {
  return score >= 9 ? NpsCategory.PROMOTER : score >= 7 ? NpsCategory.PASSIVE : NpsCategory.DETRACTOR;
}

/**
 * One answer of a member about an experience: an order, or a channel (optionally one store of it). `channel` is the
 * channel the answer is about: the order's channel when an order is given, else the recording channel.
 */
@ObjectType({ description: 'An NPS or CSAT answer of a member, about an order, a channel or a store.' })
@Entity({ tableName: 'feedback' })
@Index({ properties: ['member', 'kind', 'givenAt'] })
@Index({ properties: ['givenAt'] })
export class Feedback {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @ManyToOne('Member', { ref: true })
  member: Ref<Member>;

  @Field(() => FeedbackKind)
  @Enum({ items: () => FeedbackKind })
  kind: FeedbackKind;

  @Field(() => Int)
  @Property({ type: 'smallint' })
  score: number;

  /** Free text may hold personal data: readable with members:pii, cleared on erasure. */
  @Authorized(Permission.MEMBERS_PII)
  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 2000, nullable: true })
  comment: string | null = null;

  @ManyToOne('Order', { ref: true, nullable: true, index: true })
  order: Ref<Order> | null = null;

  @ManyToOne('SalesChannel', { ref: true })
  channel: Ref<SalesChannel>;

  @Field(() => SalesChannelKind)
  @Enum({ items: () => SalesChannelKind })
  channelKind: SalesChannelKind;

  @Field(() => String, { nullable: true, description: "The store's own code (as on orders), when the answer is about a store." })
  @Property({ type: 'string', length: 64, nullable: true })
  storeCode: string | null = null;

  /** `<channel id>:<caller's key>` when the caller gave one: a retry returns this answer. */
  @Property({ type: 'string', length: 180, nullable: true, unique: true })
  idempotencyKey: string | null = null;

  @Field(() => DateTimeISOResolver, { description: 'When the member answered.' })
  @Property({ type: 'datetime' })
  givenAt: Date;

  @Field(() => String, { description: 'Who recorded it: apiKey:<id> or admin:<id>.' })
  @Property({ type: 'string', length: 80 })
  recordedBy: string;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();
}
