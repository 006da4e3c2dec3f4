import { Entity, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { newId } from '../../base/ids';

/** A product by SKU. Unknown SKUs are created from the first order line that names them. */
@ObjectType()
@Entity({ tableName: 'product' })
export class Product {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @Field(() => String)
  @Property({ type: 'string', length: 64, unique: true })
  sku: string;

  @Field(() => String)
  @Property({ type: 'string', length: 200 })
  name: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 100, nullable: true, index: true })
  category: string | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 100, nullable: true })
  brand: string | null = null;

  @Field(() => Int, { nullable: true, description: 'List price in minor units.' })
  @Property({ type: 'integer', nullable: true })
  priceMinor: number | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 3, nullable: true })
  currency: string | null = null;

  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();
}
