import { BigIntType, Entity, PrimaryKey, Property } from '@mikro-orm/core';
import { Migration } from '@mikro-orm/migrations';
import { Arg, Authorized, Ctx, Field, Float, Int, ObjectType, Query, Resolver } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import type { OutboxSubscriber, RequestContext } from '@loyalty/api/extension-api';

/** The tally's key: brands as shops type them ("ACME", "Acme ") are one brand, as BRAND_BONUS compares them. */
export const brandKey = (brand: string) => brand.trim().toLowerCase();

/** Bonus points BRAND_BONUS rules have given per brand, kept by the subscriber below (table of this plugin's own). */
@ObjectType('BrandBonusTally', { description: 'Bonus points BRAND_BONUS rules gave on one brand (brand-bonus plugin).' })
@Entity({ tableName: 'brand_bonus_plugin_tally' })
export class BrandBonusTally {
  @Field(() => String, { description: 'The brand, trimmed and in lower case.' })
  @PrimaryKey({ type: 'string', length: 100 })
  brand: string;

  @Field(() => Float, { description: 'Bonus points credited, as the orders\' breakdowns record them (before returns). Float as it can pass 2^31.' })
  @Property({ type: new BigIntType('number') })
  points: number;

  @Field(() => Int, { description: 'Orders that earned a bonus on the brand.' })
  @Property({ type: 'integer' })
  orders: number;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'timestamptz' })
  updatedAt: Date;
}

export class Migration20261206220000_brand_bonus_tally extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "brand_bonus_plugin_tally" (
      "brand" varchar(100) primary key, "points" bigint not null, "orders" int not null, "updated_at" timestamptz not null);`);
  }
}

/**
 * On each `points.earned` of an order (its own lot, source `order`), adds the order's BRAND_BONUS breakdown lines to the
 * tally of each line's brand (the rule version's `params.brand`). Its writes commit with the cursor's move past the event,
 * so an event counts once. `beginning`: a plugin installed later tallies the orders still in the outbox. Imported
 * history records no events, so it is not tallied; returns do not reduce the tally.
 */
export const brandTallySubscriber: OutboxSubscriber = {
  name: 'brand-bonus.tally',
  eventTypes: ['points.earned'],
  startAt: 'beginning',
  async handle(event, { em }) {
    const { sourceType, sourceId } = event.payload as { sourceType?: string; sourceId?: string };
    if (sourceType !== 'order' || typeof sourceId !== 'string') return;
    await em.execute(
      `insert into brand_bonus_plugin_tally as t (brand, points, orders, updated_at)
       select left(lower(trim(r.params->>'brand')), 100), sum((b->>'points')::bigint), 1, now()
       from customer_order o
       cross join lateral jsonb_array_elements(o.points_breakdown) b
       join earning_rule r on r.id = (b->>'ruleId')::uuid
       where o.id = ? and b->>'kind' = 'BRAND_BONUS' and r.params->>'brand' is not null
       group by 1
       on conflict (brand) do update set points = t.points + excluded.points, orders = t.orders + 1, updated_at = excluded.updated_at`,
      [sourceId],
    );
  },
};

@Resolver()
export class BrandBonusTallyResolver {
  @Authorized('analytics:read')
  @Query(() => BrandBonusTally, { nullable: true, description: 'Bonus points BRAND_BONUS rules gave on a brand (any case); null before the first.' })
  brandBonusTally(@Arg('brand', () => String) brand: string, @Ctx() ctx: RequestContext): Promise<BrandBonusTally | null> {
    return ctx.em.findOne(BrandBonusTally, { brand: brandKey(brand) });
  }
}
