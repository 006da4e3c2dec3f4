import { createHash } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../../base/context';
import { AppError, type FieldProblem } from '../../base/errors';
import { SalesChannelKind } from '../../base/enums';
import { newId } from '../../base/ids';
import { idempotent } from '../../base/idempotent';
import { actorRef } from '../auth/principal';
import { SalesChannel } from '../channels/sales-channel.entity';
import { Member, MemberStatus } from '../members/member.entity';
import type { MemberService } from '../members/member.service';
import { Product } from '../catalog/product.entity';
import type { LedgerService } from '../ledger/ledger.service';
import type { MemberBalance } from '../ledger/member-balance.entity';
import { PointLot } from '../ledger/point-lot.entity';
import { CoLockChanged, EarningEventKind, readKey, type CreditLine, type EarningPipeline } from '../earning/pipeline';
import type { EventService } from '../events/event.service';
import { EventType } from '../events/event-types';
import type { Clock } from '../../base/time';
import { Order, OrderStatus } from './order.entity';
import { OrderLine } from './order-line.entity';
import { OrderReturn } from './order-return.entity';
import type { ClaimOrderInput, RecordOrderInput, RecordReturnInput, ReturnedLine } from './order.types';
import { priceOrder } from './pricing';
import { lockMembers, onLiveMember } from '../ledger/member-lock';

/** recordOrder's replay check, read with the earning terms. Parameter: the order's idempotency key. */
export const REPLAY_CHECK_COLUMN = '(select to_jsonb(o) from customer_order o where o.idempotency_key = ?) as stored';

const sha256 = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

export class OrderService {
  constructor(
    private readonly members: MemberService,
    private readonly ledger: LedgerService,
    private readonly events: EventService,
    /** Crediting: the contributors the modules registered at composition (services.ts). */
    private readonly earning: EarningPipeline,
    private readonly clock: Clock,
  ) {}

  /**
   * Idempotent per channel and channel order id: a replay with the same body returns the stored order (points are
   * credited once); a different body under the same id is a CONFLICT. The unique index is the real guard.
   */
  async record(ctx: Context, input: RecordOrderInput): Promise<Order> {
    const channel = await this.channelFor(ctx, input.channelId);
    const priced = priceOrder(input);
    const externalOrderId = input.externalOrderId.trim();
    const key = `${channel.id}:${externalOrderId}`;
    const bodyHash = sha256({ ...input, channelId: channel.id, externalOrderId, placedAt: input.placedAt.toISOString() });

    // Reads that need no transaction go out together, on two pooled connections: the member, and in one statement the
    // replay check with the programme's earning terms (EarningPipeline.readTerms). A replay is answered even when the
    // member lookup fails.
    const memberLookup = input.member ? this.members.resolveRef(ctx, input.member) : Promise.resolve(null);
    memberLookup.catch(() => undefined);
    const { extra, ...terms } = await this.earning.readTerms<{ stored: Record<string, unknown> | null }>(ctx.em, { columns: REPLAY_CHECK_COLUMN, params: [key] });
    if (extra.stored) return this.replayed(ctx.em.map(Order, extra.stored), bodyHash);
    const member = await memberLookup;
    const at = this.clock.now();
    // A member merged away while this order waited for their lock gets it on the survivor (member-lock.ts).
    const write = (memberId: string | null) =>
      ctx.em.transactional(async (em) => {
        // Members a contributor credits besides this one (the referrer of a referred member's first order) are locked
        // first, with this member, in id order (member-lock.ts), as merges take them; most orders pay one read for it.
        const coLocked = memberId ? await this.lockCoLocked(em, memberId) : null;
        const products = await this.upsertProducts(em, input);
        // The member is locked before the order is written, so the order is inserted once with its points (a
        // concurrent replay waits for the lock, then fails on the unique key).
        const balances = memberId ? coLocked!.set(memberId, await this.ledger.lockLive(em, memberId)) : null;
        const run = memberId
          ? await this.earning.start(em, terms, [readKey(memberId, [{ at, placedAt: input.placedAt }])], [EarningEventKind.ORDER], { actor: actorRef(ctx.principal), log: ctx.log, balances: balances! })
          : null;
        const order = em.create(Order, {
          idempotencyKey: key,
          bodyHash,
          channel: channel.id,
          channelKind: channel.kind,
          externalOrderId,
          member: memberId,
          currency: input.currency,
          subtotalMinor: priced.subtotalMinor,
          orderDiscountMinor: input.orderDiscountMinor,
          totalMinor: priced.totalMinor,
          storeCode: input.storeCode ?? null,
          placedAt: input.placedAt,
        });
        const lines = input.lines.map((line, i) =>
          em.create(OrderLine, {
            order,
            lineNo: i + 1,
            product: products.get(line.sku)!.id,
            sku: line.sku,
            quantity: line.quantity,
            unitPriceMinor: line.unitPriceMinor,
            discountMinor: line.discountMinor,
            totalMinor: priced.lines[i].totalMinor,
            netMinor: priced.lines[i].netMinor,
          }),
        );
        if (memberId && run) {
          await run.order({ kind: EarningEventKind.ORDER, memberId, origin: 'RECORDED', order, lines: lines.map((l) => creditLineOf(l, products.get(l.sku))), at });
          // The order, its lines, ledger rows, lots and balance in one flush, with the contributors' own rows.
          await run.flush();
        } else {
          await em.flush();
        }
        const events = [...(run?.events ?? [])];
        events.push(this.events.pending(
          EventType.ORDER_RECORDED,
          {
            orderId: order.id,
            memberId,
            channelId: channel.id,
            channelKind: channel.kind,
            externalOrderId,
            currency: order.currency,
            totalMinor: order.totalMinor,
            pointsEarned: order.pointsEarned,
            placedAt: order.placedAt.toISOString(),
          },
          { memberId, occurredAt: order.createdAt },
        ));
        await this.events.recordAll(em, events);
        return order;
      });
    // A referral attached or moved to another referrer between the read of the referrer and the locks: read it again, once.
    const writeForMember = (memberId: string) => write(memberId).catch((err) => (err instanceof CoLockChanged ? write(memberId) : Promise.reject(err)));
    return idempotent(
      () => (member ? onLiveMember(member.id, writeForMember) : write(null)),
      () => ctx.em.fork().findOne(Order, { idempotencyKey: key }),
      (winner) => this.replayed(winner, bodyHash),
    );
  }

  /** Locks, in id order, the members the earning contributors credit along with `memberId` (and it, if there are any). */
  private async lockCoLocked(em: EntityManager, memberId: string): Promise<Map<string, MemberBalance>> {
    const others = await this.earning.coLocked(em, [memberId]);
    return others.length ? lockMembers(em, [memberId, ...others]) : new Map();
  }

  /**
   * The newest orders of several members in one statement (the loader behind `member.orders`): for each key, at
   * most `limit` orders with an id below `beforeId`, newest first.
   */
  /** How many orders each member has, in one statement. */
  async countOf(em: EntityManager, memberIds: readonly string[]): Promise<number[]> {
    const rows = await em.execute<{ member_id: string; n: number }[]>(
      'select member_id, count(*)::int as n from customer_order where member_id in (?) group by member_id',
      [memberIds as string[]],
    );
    const byMember = new Map(rows.map((r) => [r.member_id, r.n]));
    return memberIds.map((id) => byMember.get(id) ?? 0);
  }

  async newestOf(em: EntityManager, keys: readonly MemberOrdersKey[], limit: number): Promise<Order[][]> {
    const rows = await em.execute<({ batch_index: number } & Record<string, unknown>)[]>(
      `select k.batch_index, o.*
       from jsonb_to_recordset(?::jsonb) as k(batch_index int, member_id uuid, before_id uuid)
       cross join lateral (
         select * from customer_order o
         where o.member_id = k.member_id and (k.before_id is null or o.id < k.before_id)
         order by o.id desc limit ?
       ) o
       order by k.batch_index, o.id desc`,
      [JSON.stringify(keys.map((k, i) => ({ batch_index: i, member_id: k.memberId, before_id: k.beforeId }))), limit],
    );
    const out = keys.map((): Order[] => []);
    for (const { batch_index, ...row } of rows) out[batch_index].push(em.map(Order, row));
    return out;
  }

  /** A guest order taken over by a member, who is credited then, once. */
  async claim(ctx: Context, input: ClaimOrderInput): Promise<Order> {
    const member = await this.members.findById(ctx.em, input.memberId);
    if (member.status === MemberStatus.ERASED) throw AppError.conflict('MEMBER_ERASED', 'This member has been erased');
    return onLiveMember(member.id, (memberId) =>
      ctx.em.transactional(async (em) => {
        // The member's lock first, then the order's (the global lock order: member-lock.ts).
        const bal = await this.ledger.lockLive(em, memberId);
        const order = await em.findOne(Order, input.orderId, { lockMode: LockMode.PESSIMISTIC_WRITE });
        if (!order) throw AppError.notFound('Order', input.orderId);
        if (order.member) {
          if (order.member.id === memberId) return order;
          throw AppError.conflict('ORDER_ALREADY_CLAIMED', 'This order already belongs to a member');
        }
        const terms = await this.earning.readTerms(em);
        const lines = await em.find(OrderLine, { order }, { populate: ['product'], orderBy: { lineNo: 'asc' } });
        const at = this.clock.now();
        // Read while the order is still a guest's: the contributors count it as this event's, not as a stored order.
        const run = await this.earning.start(em, terms, [readKey(memberId, [{ at, placedAt: order.placedAt }])], [EarningEventKind.ORDER], {
          actor: actorRef(ctx.principal),
          log: ctx.log,
          balances: new Map([[memberId, bal]]),
        });
        order.member = em.getReference(Member, memberId) as never;
        order.claimedAt = at;
        await run.order({ kind: EarningEventKind.ORDER, memberId, origin: 'CLAIMED', order, lines: lines.map((l) => creditLineOf(l, l.product.getEntity())), at });
        await run.flush();
        await this.events.recordAll(em, run.events);
        return order;
      }),
    );
  }

  /**
   * Returns some or all of what is left of an order, claiming back the points in proportion to the value returned
   * (cumulatively, so that returning everything claws back exactly what was earned). Idempotent per return id.
   */
  async recordReturn(ctx: Context, input: RecordReturnInput): Promise<OrderReturn> {
    const bodyHash = sha256(input);
    const existing = await ctx.em.findOne(OrderReturn, { order: input.orderId, externalReturnId: input.externalReturnId });
    if (existing) return this.replayedReturn(existing, bodyHash);
    // The order's member is locked before the order (the global lock order: member-lock.ts). A merge may move the
    // order between the read of its member and the lock: the lock then hands over to the survivor, who holds it now.
    const owner = await ctx.em.fork().findOne(Order, input.orderId, { fields: ['member'] });
    if (!owner) throw AppError.notFound('Order', input.orderId);
    const write = (memberId: string | null) =>
      ctx.em.transactional(async (em) => {
        const bal = memberId ? await this.ledger.lockLive(em, memberId, { allowErased: true }) : null;
        const order = await em.findOne(Order, input.orderId, { lockMode: LockMode.PESSIMISTIC_WRITE });
        if (!order) throw AppError.notFound('Order', input.orderId);
        if ((order.member?.id ?? null) !== memberId) throw new OwnerChanged();
        const lines = await em.find(OrderLine, { order }, { orderBy: { lineNo: 'asc' } });
        const wanted = input.lines ?? lines.filter((l) => l.returnedQuantity < l.quantity).map((l) => ({ lineNo: l.lineNo, quantity: l.quantity - l.returnedQuantity }));
        if (wanted.length === 0) throw AppError.conflict('ORDER_FULLY_RETURNED', 'Everything on this order has been returned already');

        const { returned, problems } = applyReturnLines(lines, wanted);
        if (problems.length) throw AppError.badInput(problems);

        const value = returned.reduce((s, r) => s + r.valueMinor, 0);
        const at = this.clock.now();
        order.returnedMinor += value;
        order.status = lines.every((l) => l.returnedQuantity === l.quantity) ? OrderStatus.RETURNED : OrderStatus.PARTIALLY_RETURNED;
        const orderReturn = em.create(OrderReturn, {
          order,
          externalReturnId: input.externalReturnId,
          bodyHash,
          lines: returned,
          valueMinor: value,
          pointsClawedBack: 0,
          createdAt: at,
        });
        if (memberId && bal) {
          const terms = await this.earning.readTerms(em);
          const run = await this.earning.start(em, terms, [readKey(memberId, [{ at, placedAt: order.placedAt }])], [EarningEventKind.RETURN], {
            actor: actorRef(ctx.principal),
            log: ctx.log,
            balances: new Map([[memberId, bal]]),
          });
          const outcome = await run.return({
            kind: EarningEventKind.RETURN,
            memberId,
            order,
            returnId: orderReturn.id,
            valueMinor: value,
            orderLot: () => em.findOne(PointLot, { sourceType: 'order', sourceId: order.id }),
            at,
          });
          orderReturn.pointsClawedBack = outcome.pointsClawedBack;
          await run.flush();
        }
        await this.events.record(
          em,
          EventType.ORDER_RETURNED,
          {
            orderId: order.id,
            returnId: orderReturn.id,
            memberId: order.member?.id ?? null,
            externalReturnId: input.externalReturnId,
            valueMinor: value,
            pointsClawedBack: orderReturn.pointsClawedBack,
            orderStatus: order.status,
          },
          { memberId: order.member?.id ?? null, occurredAt: orderReturn.createdAt },
        );
        return orderReturn;
      });
    // A guest order claimed between the read and the lock: read its member again, once.
    const once = (id: string | null) => (id ? onLiveMember(id, write) : write(null));
    const writeForOwner = async () => {
      try {
        return await once(owner.member?.id ?? null);
      } catch (err) {
        if (!(err instanceof OwnerChanged)) throw err;
        const now = await ctx.em.fork().findOneOrFail(Order, input.orderId, { fields: ['member'] });
        return await once(now.member?.id ?? null);
      }
    };
    return idempotent(
      writeForOwner,
      () => ctx.em.fork().findOne(OrderReturn, { order: input.orderId, externalReturnId: input.externalReturnId }),
      (winner) => this.replayedReturn(winner, bodyHash),
    );
  }

  /** A member's orders placed in [from, to) and their spend net of returns (ContributorTools.purchaseHistory). */
  async historyOf(em: EntityManager, memberId: string, from: Date, to: Date): Promise<{ orders: number; spendMinor: number }> {
    const [row] = await em.execute<{ orders: number; spend: string | null }[]>(
      `select count(*)::int as orders, sum(total_minor - returned_minor)::bigint as spend
       from customer_order where member_id = ? and placed_at >= ? and placed_at < ?`,
      [memberId, from, to],
    );
    return { orders: row.orders, spendMinor: Number(row.spend ?? 0) };
  }

  /** Orders and balances of an absorbed member move to the survivor (a member merge step; tiers have their own). */
  async mergeInto(em: EntityManager, survivor: Member, absorbed: Member): Promise<void> {
    await em.nativeUpdate(Order, { member: absorbed.id }, { member: survivor.id });
    // Already locked by the merge, first of all its locks, in id order.
    const balances = await lockMembers(em, [survivor.id, absorbed.id]);
    await this.ledger.transfer(em, balances.get(absorbed.id)!, balances.get(survivor.id)!, {
      sourceType: 'merge',
      sourceId: absorbed.id,
      key: `merge:${absorbed.id}`,
      actor: 'system',
    });
  }

  /** Unknown SKUs become products from the line; known ones are left as the catalogue has them. */
  private async upsertProducts(em: EntityManager, input: RecordOrderInput): Promise<Map<string, Product>> {
    const bySku = new Map(input.lines.map((l) => [l.sku, l]));
    const rows = [...bySku.values()];
    // One statement for all lines (the JSON document keeps it a single bound parameter) that also returns the
    // products: the new ones from the insert, the known ones from the table.
    const found = await em.execute<Record<string, unknown>[]>(
      `with x as (
         select * from jsonb_to_recordset(?::jsonb) as x(id uuid, sku text, name text, category text, brand text, price_minor int, currency text)
       ), inserted as (
         insert into product (id, sku, name, category, brand, price_minor, currency, created_at)
         select x.id, x.sku, x.name, x.category, x.brand, x.price_minor, x.currency, now() from x
         on conflict (sku) do nothing
         returning *
       )
       select * from inserted union all select p.* from product p join x on x.sku = p.sku`,
      [
        JSON.stringify(
          rows.map((l) => ({
            id: newId(),
            sku: l.sku,
            name: l.name ?? l.sku,
            category: l.category ?? null,
            brand: l.brand ?? null,
            price_minor: l.unitPriceMinor,
            currency: input.currency,
          })),
        ),
      ],
    );
    let products = found.map((row) => em.map(Product, row));
    // A product another transaction inserted after this statement's snapshot is in neither half: read it now.
    if (products.length < bySku.size) products = await em.find(Product, { sku: { $in: [...bySku.keys()] } });
    return new Map(products.map((p) => [p.sku, p]));
  }

  private async channelFor(ctx: Context, channelId?: string | null): Promise<{ id: string; kind: SalesChannelKind }> {
    const p = ctx.principal;
    if (p?.kind === 'channel') {
      if (channelId && channelId !== p.channelId) throw AppError.badInput([{ path: 'input.channelId', message: 'a channel records its own orders' }]);
      return { id: p.channelId, kind: p.channelKind };
    }
    if (!channelId) throw AppError.badInput([{ path: 'input.channelId', message: 'is required for admin callers' }]);
    const channel = await ctx.em.findOne(SalesChannel, channelId);
    if (!channel) throw AppError.notFound('SalesChannel', channelId);
    return { id: channel.id, kind: channel.kind };
  }

  private replayed(order: Order, bodyHash: string): Order {
    if (order.bodyHash !== bodyHash) {
      throw AppError.conflict('IDEMPOTENCY_KEY_REUSED', 'An order with this id was recorded with different contents', { orderId: order.id });
    }
    return order;
  }

  private replayedReturn(orderReturn: OrderReturn, bodyHash: string): OrderReturn {
    if (orderReturn.bodyHash !== bodyHash) {
      throw AppError.conflict('IDEMPOTENCY_KEY_REUSED', 'A return with this id was recorded with different contents', { returnId: orderReturn.id });
    }
    return orderReturn;
  }
}

/** One member's page of orders, as `newestOf` batches them (modules/orders/order.loaders.ts). */
export interface MemberOrdersKey {
  memberId: string;
  /** Only orders with a smaller (older) id: the decoded `after` cursor. */
  beforeId: string | null;
}

/** An order line as the earning pipeline credits it, with its product's category and brand. */
const creditLineOf = (l: OrderLine, product: Pick<Product, 'category' | 'brand'> | undefined): CreditLine => ({
  sku: l.sku,
  category: product?.category ?? null,
  brand: product?.brand ?? null,
  netMinor: l.netMinor,
  quantity: l.quantity,
  returnedQuantity: l.returnedQuantity,
});

type ReturnableLine = Pick<OrderLine, 'lineNo' | 'sku' | 'quantity' | 'netMinor' | 'returnedQuantity'>;

/**
 * Marks `wanted` quantities of `lines` returned (mutating them) and values each return at its share of the line's net
 * amount, cumulatively, so that returning everything gives back exactly the net. Nothing is changed if any problem.
 */
export function applyReturnLines(lines: ReturnableLine[], wanted: { lineNo: number; quantity: number }[]): { returned: ReturnedLine[]; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const seen = new Set<number>();
  wanted.forEach((w, i) => {
    const line = lines.find((l) => l.lineNo === w.lineNo);
    if (!line) return problems.push({ path: `input.lines.${i}.lineNo`, message: `order has no line ${w.lineNo}` });
    if (seen.has(w.lineNo)) return problems.push({ path: `input.lines.${i}.lineNo`, message: 'is listed twice' });
    seen.add(w.lineNo);
    const left = line.quantity - line.returnedQuantity;
    if (w.quantity > left) return problems.push({ path: `input.lines.${i}.quantity`, message: `exceeds the ${left} not yet returned` });
  });
  if (problems.length) return { returned: [], problems };
  const returned = wanted.map((w) => {
    const line = lines.find((l) => l.lineNo === w.lineNo)!;
    const before = Math.floor((line.netMinor * line.returnedQuantity) / line.quantity);
    line.returnedQuantity += w.quantity;
    const after = Math.floor((line.netMinor * line.returnedQuantity) / line.quantity);
    return { lineNo: line.lineNo, sku: line.sku, quantity: w.quantity, valueMinor: after - before };
  });
  return { returned, problems };
}

export { clawbackDue } from '../earning/base-earning';

/** The order's member changed between the unlocked read and the locks (a guest order claimed meanwhile). */
class OwnerChanged extends Error {}
