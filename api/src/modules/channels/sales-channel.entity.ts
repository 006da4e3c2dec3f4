import { Entity, Enum, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { newId } from '../../base/ids';
import { SalesChannelKind } from '../../base/enums';

@ObjectType({ description: 'A system that sells: a web shop, an app, a store POS, a marketplace, a call centre.' })
@Entity({ tableName: 'sales_channel' })
export class SalesChannel {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @Field(() => String)
  @Property({ type: 'string', length: 100, unique: true })
  name: string;

  @Field(() => SalesChannelKind)
  @Enum({ items: () => SalesChannelKind })
  kind: SalesChannelKind;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();
}
