import { Entity, Index, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { DateTimeISOResolver, JSONResolver } from 'graphql-scalars';
import { newId } from '../../base/ids';

/** Who changed what, when, with the state before and after. */
@ObjectType()
@Entity({ tableName: 'audit_entry' })
@Index({ properties: ['entityType', 'entityId'] })
@Index({ name: 'audit_entry_actor_id_index', properties: ['actor', 'id'] })
export class AuditEntry {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @Field(() => String, { description: 'admin:<id>, apiKey:<id> or system' })
  @Property({ type: 'string', length: 80 })
  actor: string;

  @Field(() => String, { description: 'The use case, e.g. member.enrol' })
  @Property({ type: 'string', length: 64 })
  action: string;

  @Field(() => String)
  @Property({ type: 'string', length: 64 })
  entityType: string;

  @Field(() => String)
  @Property({ type: 'string', length: 64 })
  entityId: string;

  @Field(() => JSONResolver, { nullable: true })
  @Property({ type: 'json', nullable: true })
  before: Record<string, unknown> | null = null;

  @Field(() => JSONResolver, { nullable: true })
  @Property({ type: 'json', nullable: true })
  after: Record<string, unknown> | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 64, nullable: true })
  requestId: string | null = null;

  @Field(() => DateTimeISOResolver)
  @Index()
  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();
}
