import { Entity, ManyToOne, PrimaryKey, Property, type Ref, type Opt } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { newId } from '../../base/ids';
import { Member } from './member.entity';

/** The record of two members found to be one person. */
@ObjectType()
@Entity({ tableName: 'member_merge' })
export class MemberMerge {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @ManyToOne(() => Member, { ref: true, index: true })
  survivor: Ref<Member>;

  @ManyToOne(() => Member, { ref: true, unique: true })
  absorbed: Ref<Member>;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 500, nullable: true })
  reason: string | null = null;

  @Field(() => String, { description: 'admin:<id> or apiKey:<id>' })
  @Property({ type: 'string', length: 80 })
  mergedBy: string;

  @Field(() => Number)
  @Property({ type: 'integer' })
  movedIdentifiers: number;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();
}
