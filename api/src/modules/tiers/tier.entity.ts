import { Entity, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { newId } from '../../base/ids';

/** A level of the programme. The tier with threshold 0 is where everyone starts. */
@ObjectType()
@Entity({ tableName: 'tier' })
export class Tier {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @Field(() => String)
  @Property({ type: 'string', length: 32, unique: true })
  code: string;

  @Field(() => String)
  @Property({ type: 'string', length: 100 })
  name: string;

  @Field(() => Int, { description: 'Points earned or spend (per the programme metric) in the window to qualify.' })
  @Property({ type: 'integer', unique: true })
  threshold: number;

  @Field(() => Int, { description: 'Benefit: 150 earns base points × 1.5.' })
  @Property({ type: 'integer', default: 100 })
  earnMultiplierPercent: Opt<number> = 100;

  @Field(() => [String], { description: 'Benefit flags such as FREE_DELIVERY.' })
  @Property({ type: 'text[]' })
  benefitFlags: Opt<string[]> = [];

  /** A higher tier admits what a lower one does. */
  admits(metric: number): boolean {
    return metric >= this.threshold;
  }
}

/** A tier's fields without its behaviour: what `tier { … }` answers, from an entity or from a member card's row. */
export type TierFields = Omit<Tier, 'admits'>;
