import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, ObjectType, Field, Query, Resolver, Root } from 'type-graphql';
import type { Context, ResolverContext } from '../../base/context';
import { AppError } from '../../base/errors';
import { Permission } from '../auth/permissions';
import { Order } from './order.entity';
import { OrderLine } from './order-line.entity';
import { OrderReturn } from './order-return.entity';
import type { OrderService } from './order.service';
import type { OrderLoaders } from './order.loaders';
import { ClaimOrderInput, RecordOrderInput, RecordReturnInput } from './order.types';
import { Member } from '../members/member.entity';
import { checkPageSize, connectionOf, decodeTimeCursor, timeKeyedPageOf } from '../../base/pagination';

@ObjectType()
export class OrderConnection extends connectionOf(Order, 'Order') {
  /** Runs only when totalCount is asked for. */
  countTotal: () => Promise<number>;
}

@Resolver(() => OrderConnection)
export class OrderConnectionResolver {
  @FieldResolver(() => Int, { description: "All the member's orders, not just this page." })
  totalCount(@Root() connection: OrderConnection): Promise<number> {
    return connection.countTotal();
  }
}

@Resolver(() => Order)
export class OrderResolver {
  constructor(private readonly orderService: OrderService) {}

  @Authorized(Permission.ORDERS_WRITE)
  @Mutation(() => Order, { description: 'Idempotent per channel order id: replays return the stored order and credit once.' })
  recordOrder(@Arg('input', () => RecordOrderInput) input: RecordOrderInput, @Ctx() ctx: Context): Promise<Order> {
    return this.orderService.record(ctx, input);
  }

  @Authorized(Permission.ORDERS_WRITE)
  @Mutation(() => Order, { description: 'A member takes over a guest order and is credited its points, once.' })
  claimOrder(@Arg('input', () => ClaimOrderInput) input: ClaimOrderInput, @Ctx() ctx: Context): Promise<Order> {
    return this.orderService.claim(ctx, input);
  }

  @Authorized(Permission.ORDERS_WRITE)
  @Mutation(() => OrderReturn, { description: 'Returns lines (or everything left); claws back the points in proportion.' })
  recordReturn(@Arg('input', () => RecordReturnInput) input: RecordReturnInput, @Ctx() ctx: Context): Promise<OrderReturn> {
    return this.orderService.recordReturn(ctx, input);
  }

  @Authorized(Permission.ORDERS_READ, Permission.ORDERS_WRITE)
  @Query(() => Order)
  async order(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Order> {
    const order = await ctx.em.findOne(Order, id);
    if (!order) throw AppError.notFound('Order', id);
    return order;
  }

  @FieldResolver(() => [OrderLine])
  lines(@Root() order: Order): Promise<OrderLine[]> {
    return order.lines.loadItems({ dataloader: true });
  }

  @FieldResolver(() => ID, { nullable: true, description: 'Null for an unclaimed guest order.' })
  memberId(@Root() order: Order): string | null {
    return order.member?.id ?? null;
  }
}

@Resolver(() => Member)
export class MemberOrdersResolver {
  @Authorized(Permission.ORDERS_READ, Permission.ORDERS_WRITE)
  @FieldResolver(() => OrderConnection, { description: "The member's orders, newest placedAt first (ties by id), however late each was recorded." })
  async orders(
    @Root() member: Member,
    @Ctx() ctx: ResolverContext<OrderLoaders>,
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<OrderConnection> {
    checkPageSize(first);
    const rows = await ctx.loaders.orders.ofMember(first + 1).load({ memberId: member.id, before: after ? decodeTimeCursor(after) : null });
    return { ...timeKeyedPageOf(rows, first, Boolean(after)), countTotal: () => ctx.loaders.orders.countOf.load(member.id) };
  }
}
