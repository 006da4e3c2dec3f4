import { Entity, ManyToOne, PrimaryKey, Property, type Opt, type Ref } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { newId } from '../../base/ids';
import { Member } from '../members/member.entity';

/** A paid membership (an annual fee for benefits) that combines with the member's tier. */
@ObjectType()
@Entity({ tableName: 'membership_plan' })
export class MembershipPlan {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @Field(() => String)
  @Property({ type: 'string', length: 32, unique: true })
  code: string;

  @Field(() => String)
  @Property({ type: 'string', length: 100 })
  name: string;

  @Field(() => Int)
  @Property({ type: 'integer' })
  feeMinor: number;

  @Field(() => String)
  @Property({ type: 'string', length: 3 })
  currency: string;

  @Field(() => Int)
  @Property({ type: 'integer' })
  durationDays: number;

  @Field(() => Int)
  @Property({ type: 'integer', default: 100 })
  earnMultiplierPercent: Opt<number> = 100;

  @Field(() => [String])
  @Property({ type: 'text[]' })
  benefitFlags: Opt<string[]> = [];

  @Field(() => Boolean)
  @Property({ type: 'boolean', default: true })
  isActive: Opt<boolean> = true;
}

@ObjectType()
@Entity({ tableName: 'member_plan' })
export class MemberPlan {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @ManyToOne(() => Member, { ref: true, index: true })
  member: Ref<Member>;

  @ManyToOne(() => MembershipPlan, { ref: true })
  plan: Ref<MembershipPlan>;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  startsAt: Date;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  endsAt: Date;

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  cancelledAt: Date | null = null;

  isActiveAt(at: Date): boolean {
    return !this.cancelledAt && this.startsAt <= at && at < this.endsAt;
  }
}
