import { Entity, Enum, ManyToOne, PrimaryKey, Property, type Ref, Unique, type Opt } from '@mikro-orm/core';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { newId } from '../../base/ids';
import type { EntityById } from '../../base/database';

export enum IdentifierType {
  EMAIL = 'EMAIL',
  PHONE = 'PHONE',
  /** A sales channel's own customer id (e.g. a POS loyalty card number); unique within that channel. */
  CHANNEL_CUSTOMER_ID = 'CHANNEL_CUSTOMER_ID',
}
registerEnumType(IdentifierType, { name: 'IdentifierType' });

/** Email and phone are global; channel customer ids are scoped to their sales channel's id. */
export const GLOBAL_SCOPE = '';

@ObjectType({ description: 'A normalised identifier by which a member can be found.' })
@Entity({ tableName: 'member_identifier' })
@Unique({ properties: ['type', 'scope', 'value'] })
export class MemberIdentifier {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  /** The member (member.entity.ts), by id: that file imports this one for its collection. */
  @ManyToOne('Member', { ref: true, index: true, deleteRule: 'cascade' })
  member: Ref<EntityById>;

  @Field(() => IdentifierType)
  @Enum({ items: () => IdentifierType })
  type: IdentifierType;

  @Field(() => String, { description: 'Sales channel id for CHANNEL_CUSTOMER_ID; empty for email and phone.' })
  @Property({ type: 'string', length: 64, default: '' })
  scope: Opt<string> = GLOBAL_SCOPE;

  @Field(() => String)
  @Property({ type: 'string', length: 254 })
  value: string;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();
}
