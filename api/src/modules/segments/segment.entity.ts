import { Entity, Enum, Index, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISOResolver, JSONObjectResolver } from 'graphql-scalars';
import { newId } from '../../base/ids';
import type { SegmentRule } from './segment-grammar';

export enum SegmentKind {
  /** Evaluated each time it is used. */
  DYNAMIC = 'DYNAMIC',
  /** Its members were recorded at creation (segment_member) and do not change. */
  SNAPSHOT = 'SNAPSHOT',
}
registerEnumType(SegmentKind, { name: 'SegmentKind' });

@ObjectType({ description: 'A saved rule over member attributes (docs/concepts/segments.md).' })
@Entity({ tableName: 'segment' })
@Index({ properties: ['createdAt'] })
export class Segment {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @Field(() => String)
  @Property({ type: 'string', length: 100 })
  name: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 500, nullable: true })
  description: string | null = null;

  @Field(() => JSONObjectResolver, { description: 'The rule tree, as validated (docs/concepts/segments.md).' })
  @Property({ type: 'json' })
  rule: SegmentRule;

  @Field(() => SegmentKind)
  @Enum({ items: () => SegmentKind })
  kind: SegmentKind;

  @Field(() => String, { description: 'admin:<id> of the creator.' })
  @Property({ type: 'string', length: 80 })
  createdBy: string;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  updatedAt: Opt<Date> = new Date();

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'Set once deleted; a deleted segment is no longer listed or usable.' })
  @Property({ type: 'datetime', nullable: true })
  deletedAt: Date | null = null;
}
