import { Entity, ManyToOne, PrimaryKey, Property, type Opt, type Ref, Unique } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { newId } from '../../base/ids';
import type { Order } from './order.entity';
import { ReturnedLine } from './order.types';

@ObjectType({ description: 'Goods brought back, and the points that went with them.' })
@Entity({ tableName: 'order_return' })
@Unique({ properties: ['order', 'externalReturnId'] })
export class OrderReturn {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @ManyToOne('Order', { ref: true })
  order: Ref<Order>;

  @Field(() => String)
  @Property({ type: 'string', length: 100 })
  externalReturnId: string;

  @Property({ type: 'string', length: 64 })
  bodyHash: string;

  @Field(() => [ReturnedLine])
  @Property({ type: 'json' })
  lines: ReturnedLine[];

  @Field(() => Int)
  @Property({ type: 'integer' })
  valueMinor: number;

  @Field(() => Int)
  @Property({ type: 'integer' })
  pointsClawedBack: number;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();
}
