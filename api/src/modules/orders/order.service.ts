import { createHash } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../../base/context';
import { AppError, type FieldProblem } from '../../base/errors';
import { SalesChannelKind } from '../../base/enums';
import { newId } from '../../base/ids';
import { idempotent } from '../../base/idempotent';
import { timeKeySql, type TimeKey, type TimeKeyed } from '../../base/pagination';
import { actorRef } from '../auth/principal';
import { SalesChannel } from '../channels/sales-channel.entity';
import { Member, MemberStatus } from '../members/member.entity';
import type { MemberService } from '../members/member.service';
import { Product } from '../catalog/product.entity';
import type { LedgerService } from '../ledger/ledger.service';
import { MemberBalance } from '../ledger/member-balance.entity';
import { LedgerBatch } from '../ledger/ledger.service';
import { runPrepared } from '../../base/prepared';
import type { PendingEvent } from '../events/event.service';
import { PointLot } from '../ledger/point-lot.entity';
import { CoLockChanged, EarningEventKind, readKey, type CreditableOrder, type CreditLine, type EarningPipeline } from '../earning/pipeline';
import type { EventService } from '../events/event.service';
import { EventType } from '../events/event-types';
import type { Clock } from '../../base/time';
import { Order, OrderStatus } from './order.entity';
import { OrderLine } from './order-line.entity';
import { OrderReturn } from './order-return.entity';
import type { ClaimOrderInput, RecordOrderInput, RecordReturnInput, ReturnedLine } from './order.types';
import { priceOrder } from './pricing';
import { lockMembers, MemberMoved, noteMemberLockTaken, onLiveMember } from '../ledger/member-lock';

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
   *
   * The hot path, in as few statements as the guarantees allow and none through the ORM's unit of work: before the
   * transaction, the replay check with the earning terms (one statement) beside the member and the members the
   * contributors lock with them; then the products upsert with the member's lock (one statement), the member's status
   * with every contributor's read (one), the order, lines, ledger rows, lots, balance and events (one), and the commit.
   */
  async record(ctx: Context, input: RecordOrderInput): Promise<Order> {
    const channel = await this.channelFor(ctx, input.channelId);
    const priced = priceOrder(input);
    const externalOrderId = input.externalOrderId.trim();
    const key = `${channel.id}:${externalOrderId}`;
    const bodyHash = sha256({ ...input, channelId: channel.id, externalOrderId, placedAt: input.placedAt.toISOString() });

    // Reads that need no transaction go out together, on pooled connections: the member and then the members the
    // contributors lock with them (a referred member's referrer), and in one statement the replay check with the
    // programme's earning terms (EarningPipeline.readTerms). A replay is answered even when the member lookup fails.
    const memberLookup = input.member ? this.members.resolveRef(ctx, input.member) : Promise.resolve(null);
    const coLockedLookup = memberLookup.then((m) => (m ? this.earning.coLocked(ctx.em, [m.id]) : []));
    memberLookup.catch(() => undefined);
    coLockedLookup.catch(() => undefined);
    const { extra, ...terms } = await this.earning.readTerms<{ stored: Record<string, unknown> | null }>(ctx.em, { columns: REPLAY_CHECK_COLUMN, params: [key] });
    if (extra.stored) return this.replayed(ctx.em.map(Order, extra.stored), bodyHash);
    const member = await memberLookup;
    const at = this.clock.now();
    const productRows = productRowsOf(input);
    // A member merged away while this order waited for their lock gets it on the survivor (member-lock.ts).
    const write = async (memberId: string | null, others: string[]) => {
      const row = await ctx.em.transactional(async (em) => {
        // Members a contributor credits besides this one are locked first, with this member, in id order
        // (member-lock.ts), as merges take them; the products upsert then goes alone.
        const [first] = await runPrepared<{ products: ProductRow[]; balance: BalanceRow | null }>(em, PRODUCTS_AND_LOCK_SQL, [
          productRows,
          others.length ? null : memberId,
        ]);
        const products = await this.productsOf(em, input, first.products);
        let balances: Map<string, MemberBalance> | null = null;
        if (memberId) {
          if (others.length) balances = await lockMembers(em, [memberId, ...others]);
          else if (first.balance) {
            noteMemberLockTaken(em);
            balances = new Map([[memberId, balanceOf(em, memberId, first.balance)]]);
          } else balances = new Map([[memberId, await this.ledger.lock(em, memberId)]]); // their first points: the row is created
        }
        const order: NewOrder = {
          id: newId(),
          idempotencyKey: key,
          bodyHash,
          channelId: channel.id,
          channelKind: channel.kind,
          externalOrderId,
          memberId,
          currency: input.currency,
          subtotalMinor: priced.subtotalMinor,
          orderDiscountMinor: input.orderDiscountMinor,
          totalMinor: priced.totalMinor,
          returnedMinor: 0,
          storeCode: input.storeCode ?? null,
          placedAt: input.placedAt,
          pointsEarned: 0,
          pointsClawedBack: 0,
          pointsBasisMinor: 0,
          returnedAtCreditMinor: 0,
          pointsBreakdown: [],
          createdAt: new Date(),
        };
        const lines = input.lines.map((line, i) => ({
          id: newId(),
          order_id: order.id,
          line_no: i + 1,
          product_id: products.get(line.sku)!.id,
          sku: line.sku,
          quantity: line.quantity,
          unit_price_minor: line.unitPriceMinor,
          discount_minor: line.discountMinor,
          total_minor: priced.lines[i].totalMinor,
          net_minor: priced.lines[i].netMinor,
          returned_quantity: 0,
        }));
        const batch = new LedgerBatch();
        let events: PendingEvent[] = [];
        if (memberId && balances) {
          // The member's status once the lock is held (a merge or erasure may have won it), read with every contributor's reads.
          const { run, extra: read } = await this.earning.startWith<{ member_state: { status: string; mergedIntoId: string | null } | null }>(
            em,
            terms,
            [readKey(memberId, [{ at, placedAt: input.placedAt }])],
            [EarningEventKind.ORDER],
            { actor: actorRef(ctx.principal), log: ctx.log, balances, batch },
            { columns: MEMBER_STATE_COLUMN, params: [memberId] },
          );
          const state = read.member_state;
          if (!state) throw AppError.notFound('Member', memberId);
          if (state.status === MemberStatus.MERGED && state.mergedIntoId) throw new MemberMoved(memberId, state.mergedIntoId);
          if (state.status === MemberStatus.ERASED) throw AppError.conflict('MEMBER_ERASED', 'This member has been erased', { memberId });
          const creditLines = input.lines.map((l, i) => creditLineOf({ sku: l.sku, netMinor: lines[i].net_minor, quantity: l.quantity, returnedQuantity: 0 }, products.get(l.sku)));
          await run.order({ kind: EarningEventKind.ORDER, memberId, origin: 'RECORDED', order, lines: creditLines, at });
          // The contributors' own writes; the batch (ledger rows, lots, balances) goes with the order below.
          await run.flush();
          events = [...run.events];
        }
        events.push(
          this.events.pending(
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
          ),
        );
        const orderRow = orderRowOf(order);
        const ledger = batch.ctes();
        const outbox = this.events.recordAllCte(events);
        // One statement: the order, its lines, the ledger rows, lots and balances, and the outbox events. Anything the
        // contributors left in the ORM's unit of work (a tier change, a referral) is flushed by the transaction after it.
        await runPrepared(
          em,
          `with ${[ORDER_INSERT_CTE, LINES_INSERT_CTE, ...ledger.sql, outbox.sql].join(',\n')}
           select 1 as written`,
          [JSON.stringify(orderRow), JSON.stringify(lines), ...ledger.params, outbox.param],
        );
        return orderRow;
      });
      // Mapped after the commit, outside the member's lock: the answer is built from what was written.
      return ctx.em.map(Order, row);
    };
    // A referral attached or moved to another referrer between the read of the referrer and the locks: read it again, once.
    const othersOf = async (memberId: string) => (memberId === member?.id ? await coLockedLookup : await this.earning.coLocked(ctx.em, [memberId]));
    const writeForMember = async (memberId: string) => {
      try {
        return await write(memberId, await othersOf(memberId));
      } catch (err) {
        if (!(err instanceof CoLockChanged)) throw err;
        return write(memberId, await this.earning.coLocked(ctx.em, [memberId]));
      }
    };
    return idempotent(
      () => (member ? onLiveMember(member.id, writeForMember) : write(null, [])),
      () => ctx.em.fork().findOne(Order, { idempotencyKey: key }),
      (winner) => this.replayed(winner, bodyHash),
    );
  }

  /**
   * The products of the order's lines by SKU, as the upsert returned them; a product another transaction inserted
   * after the statement's snapshot is in neither half of it: read again.
   */
  private async productsOf(em: EntityManager, input: RecordOrderInput, rows: ProductRow[]): Promise<Map<string, ProductRow>> {
    const bySku = new Map(rows.map((p) => [p.sku, p]));
    if (input.lines.every((l) => bySku.has(l.sku))) return bySku;
    const again = await em.execute<ProductRow[]>('select id, sku, category, brand from product where sku in (?)', [[...new Set(input.lines.map((l) => l.sku))]]);
    return new Map(again.map((p) => [p.sku, p]));
  }

  /** Locks, in id order, the members the earning contributors credit along with `memberId` (and it, if there are any). */
  private async lockCoLocked(em: EntityManager, memberId: string): Promise<Map<string, MemberBalance>> {
    const others = await this.earning.coLocked(em, [memberId]);
    return others.length ? lockMembers(em, [memberId, ...others]) : new Map();
  }

  /** How many orders each member has, in one statement. */
  async countOf(em: EntityManager, memberIds: readonly string[]): Promise<number[]> {
    const rows = await em.execute<{ member_id: string; n: number }[]>(
      'select member_id, count(*)::int as n from customer_order where member_id in (?) group by member_id',
      [memberIds as string[]],
    );
    const byMember = new Map(rows.map((r) => [r.member_id, r.n]));
    return memberIds.map((id) => byMember.get(id) ?? 0);
  }

  /**
   * The newest orders of several members in one statement (the loader behind `member.orders`): for each key, at most
   * `limit` orders placed before its position (from the newest without one), newest `placedAt` first, ties by id.
   */
  async newestOf(em: EntityManager, keys: readonly MemberOrdersKey[], limit: number): Promise<TimeKeyed<Order>[][]> {
    const rows = await em.execute<({ batch_index: number; key_at: string } & Record<string, unknown>)[]>(MEMBER_ORDERS_PAGE_SQL, [
      JSON.stringify(keys.map((k, i) => ({ batch_index: i, member_id: k.memberId, before_at: k.before?.at ?? null, before_id: k.before?.id ?? null }))),
      limit,
    ]);
    const out = keys.map((): TimeKeyed<Order>[] => []);
    for (const { batch_index, key_at, ...row } of rows) {
      const order = em.map(Order, row);
      out[batch_index].push({ node: order, key: { at: key_at, id: order.id } });
    }
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
          let orderLots: Promise<PointLot[]> | undefined;
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
            // Read once however many stages ask (the clawback, then the tier metric).
            orderLots: () => (orderLots ??= this.ledger.lotsOfOrder(em, memberId, order.id)),
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

/** The order recordOrder writes: the pipeline credits it (CreditableOrder), then it is one row of the write statement. */
interface NewOrder extends CreditableOrder {
  idempotencyKey: string;
  bodyHash: string;
  channelId: string;
  externalOrderId: string;
  memberId: string | null;
  subtotalMinor: number;
  orderDiscountMinor: number;
  storeCode: string | null;
  createdAt: Date;
}

interface ProductRow {
  id: string;
  sku: string;
  category: string | null;
  brand: string | null;
}

interface BalanceRow {
  available: number;
  pending: number;
  lifetime: number;
}

/** The order as a `customer_order` row (what the write inserts and the answer is mapped from). */
const orderRowOf = (o: NewOrder) => ({
  id: o.id,
  idempotency_key: o.idempotencyKey,
  body_hash: o.bodyHash,
  channel_id: o.channelId,
  channel_kind: o.channelKind,
  external_order_id: o.externalOrderId,
  member_id: o.memberId,
  status: OrderStatus.COMPLETED,
  currency: o.currency,
  subtotal_minor: o.subtotalMinor,
  order_discount_minor: o.orderDiscountMinor,
  total_minor: o.totalMinor,
  returned_minor: o.returnedMinor,
  store_code: o.storeCode,
  placed_at: o.placedAt,
  points_earned: o.pointsEarned,
  points_clawed_back: o.pointsClawedBack,
  points_basis_minor: o.pointsBasisMinor,
  returned_at_credit_minor: o.returnedAtCreditMinor,
  points_breakdown: o.pointsBreakdown,
  claimed_at: null,
  created_at: o.createdAt,
});

const ORDER_COLUMNS = `id, idempotency_key, body_hash, channel_id, channel_kind, external_order_id, member_id, status, currency, subtotal_minor,
  order_discount_minor, total_minor, returned_minor, store_code, placed_at, points_earned, points_clawed_back, points_basis_minor,
  returned_at_credit_minor, points_breakdown, claimed_at, created_at`;
const LINE_COLUMNS = 'id, order_id, line_no, product_id, sku, quantity, unit_price_minor, discount_minor, total_minor, net_minor, returned_quantity';

/** recordOrder's write: the order and its lines (their columns' types are the tables'). Parameters: the order, the lines. */
export const ORDER_INSERT_CTE = `order_row as (insert into customer_order (${ORDER_COLUMNS})
    select ${ORDER_COLUMNS} from jsonb_populate_record(null::customer_order, ?::jsonb))`;
export const LINES_INSERT_CTE = `order_lines as (insert into order_line (${LINE_COLUMNS})
    select ${LINE_COLUMNS} from jsonb_populate_recordset(null::order_line, ?::jsonb))`;

/**
 * recordOrder's first statement in its transaction: unknown SKUs become products from the line (known ones are left as
 * the catalogue has them) and the products come back, new ones from the insert, known ones from the table; with the
 * member's balance row locked (member-lock.ts). Parameters: the products (JSON), the member (null: lock no one).
 */
export const PRODUCTS_AND_LOCK_SQL = `with x as materialized (
    select * from jsonb_to_recordset(?::jsonb) as x(id uuid, sku text, name text, category text, brand text, price_minor int, currency text)
  ), inserted as (
    insert into product (id, sku, name, category, brand, price_minor, currency, created_at)
    select x.id, x.sku, x.name, x.category, x.brand, x.price_minor, x.currency, now() from x
    on conflict (sku) do nothing
    returning id, sku, category, brand
  ), locked as (
    select available::float8 as available, pending::float8 as pending, lifetime::float8 as lifetime from member_balance where member_id = ? for update
  )
  select (select coalesce(jsonb_agg(p), '[]'::jsonb) from (select * from inserted union all select p.id, p.sku, p.category, p.brand from product p join x on x.sku = p.sku) p) as products,
    (select to_jsonb(l) from locked l) as balance`;

/** The member's status, read with the contributors' reads once their lock is held. Parameter: the member. */
export const MEMBER_STATE_COLUMN = `(select jsonb_build_object('status', m.status, 'mergedIntoId', m.merged_into_id) from member m where m.id = ?) as member_state`;

/** The products the order's lines name, as the upsert takes them (one row per SKU). */
function productRowsOf(input: RecordOrderInput): string {
  const bySku = new Map(input.lines.map((l) => [l.sku, l]));
  return JSON.stringify(
    [...bySku.values()].map((l) => ({
      id: newId(),
      sku: l.sku,
      name: l.name ?? l.sku,
      category: l.category ?? null,
      brand: l.brand ?? null,
      price_minor: l.unitPriceMinor,
      currency: input.currency,
    })),
  );
}

/** A balance locked by the hot path's own statement: not in the ORM's unit of work (the batch writes it). */
function balanceOf(em: EntityManager, memberId: string, row: BalanceRow): MemberBalance {
  return Object.assign(new MemberBalance(), { member: em.getReference(Member, memberId, { wrapped: true }), available: row.available, pending: row.pending, lifetime: row.lifetime });
}

/** One member's page of orders, as `newestOf` batches them (modules/orders/order.loaders.ts). */
export interface MemberOrdersKey {
  memberId: string;
  /** Only orders after this one in (placedAt, id) descending order: the decoded `after` cursor. */
  before: TimeKey | null;
}

/**
 * `newestOf`'s statement: for each key, the member's orders below its (placed_at, id) position, newest first. A missing
 * position is (infinity, the largest uuid) rather than an `or`, so that each key is one backward scan of
 * customer_order (member_id, placed_at) from its position (docs/operations/performance.md).
 */
export const MEMBER_ORDERS_PAGE_SQL = `select k.batch_index, ${timeKeySql('o.placed_at')} as key_at, o.*
  from jsonb_to_recordset(?::jsonb) as k(batch_index int, member_id uuid, before_at timestamptz, before_id uuid)
  cross join lateral (
    select * from customer_order o
    where o.member_id = k.member_id
      and (o.placed_at, o.id) < (coalesce(k.before_at, 'infinity'), coalesce(k.before_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
    order by o.placed_at desc, o.id desc limit ?
  ) o
  order by k.batch_index, o.placed_at desc, o.id desc`;

/** An order line as the earning pipeline credits it, with its product's category and brand. */
const creditLineOf = (l: Pick<OrderLine, 'sku' | 'netMinor' | 'quantity' | 'returnedQuantity'>, product: Pick<Product, 'category' | 'brand'> | undefined): CreditLine => ({
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
