import { Entity, ManyToOne, PrimaryKey, Property, type Opt, type Ref, Unique } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { newId } from '../../base/ids';
import type { EntityById } from '../../base/database';
import type { Product } from '../catalog/product.entity';

@ObjectType()
@Entity({ tableName: 'order_line' })
@Unique({ properties: ['order', 'lineNo'] })
export class OrderLine {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  /** The order (order.entity.ts), by id: that file imports this one for its collection. */
  @ManyToOne('Order', { ref: true })
  order: Ref<EntityById>;

  @Field(() => Int)
  @Property({ type: 'integer' })
  lineNo: number;

  @ManyToOne('Product', { ref: true, index: true })
  product: Ref<Product>;

  @Field(() => String)
  @Property({ type: 'string', length: 64 })
  sku: string;

  @Field(() => Int)
  @Property({ type: 'integer' })
  quantity: number;

  @Field(() => Int)
  @Property({ type: 'integer' })
  unitPriceMinor: number;

  @Field(() => Int)
  @Property({ type: 'integer' })
  discountMinor: number;

  @Field(() => Int, { description: 'quantity × unit price − line discount.' })
  @Property({ type: 'integer' })
  totalMinor: number;

  @Field(() => Int, { description: 'Line total less its share of the order discount: what points and refunds are based on.' })
  @Property({ type: 'integer' })
  netMinor: number;

  @Field(() => Int)
  @Property({ type: 'integer', default: 0 })
  returnedQuantity: Opt<number> = 0;
}
