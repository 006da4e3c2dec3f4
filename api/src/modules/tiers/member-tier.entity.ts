import { Entity, Enum, ManyToOne, OneToOne, PrimaryKey, PrimaryKeyProp, Property, type Opt, type Ref } from '@mikro-orm/core';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { newId } from '../../base/ids';
import { Member } from '../members/member.entity';
import { Tier } from './tier.entity';

/** A member's current tier, held at least until `retainUntil` (the end of its qualification period). */
@Entity({ tableName: 'member_tier' })
export class MemberTier {
  [PrimaryKeyProp]?: 'member';

  @OneToOne(() => Member, { primary: true, ref: true })
  member: Ref<Member>;

  @ManyToOne(() => Tier, { ref: true })
  tier: Ref<Tier>;

  @Property({ type: 'datetime' })
  achievedAt: Date;

  @Property({ type: 'datetime' })
  retainUntil: Date;
}

export enum TierChangeReason {
  QUALIFIED = 'QUALIFIED',
  PERIOD_ENDED = 'PERIOD_ENDED',
  MERGE = 'MERGE',
}
registerEnumType(TierChangeReason, { name: 'TierChangeReason' });

@ObjectType()
@Entity({ tableName: 'tier_change' })
export class TierChange {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @ManyToOne(() => Member, { ref: true, index: true })
  member: Ref<Member>;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 32, nullable: true })
  fromTier: string | null;

  @Field(() => String)
  @Property({ type: 'string', length: 32 })
  toTier: string;

  @Field(() => TierChangeReason)
  @Enum({ items: () => TierChangeReason })
  reason: TierChangeReason;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  changedAt: Date;
}
