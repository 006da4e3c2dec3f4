import { randomInt } from 'node:crypto';
import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../../base/context';
import { AppError, upsertByKey, type FieldProblem } from '../../base/errors';
import { isCurrency } from '../../base/currency';
import { idempotent } from '../../base/idempotent';
import { actorRef } from '../auth/principal';
import type { AuditService } from '../audit/audit.service';
import type { MemberService } from '../members/member.service';
import type { LedgerService } from '../ledger/ledger.service';
import { MemberMoved, noteMemberLockHeld, noteMemberLockTaken, onLiveMember } from '../ledger/member-lock';
import { LedgerReason } from '../ledger/ledger-entry.entity';
import type { ProgrammeService } from '../programme/programme.service';
import type { TierService } from '../tiers/tier.service';
import type { CampaignOfferService } from '../campaigns/campaign-offers';
import { EventType } from '../events/event-types';
import { outboxRows, type EventService, type PendingEvent } from '../events/event.service';
import { REDEMPTION_INPUTS_SQL, redemptionInputsOf } from './redemption-reads';
import { RedeemBatches } from './redeem-batches';
import { runPrepared } from '../../base/prepared';
import { newId } from '../../base/ids';
import { Member, MemberStatus } from '../members/member.entity';
import { MemberBalance } from '../ledger/member-balance.entity';
import { AVAILABLE_LOTS_ORDER, LedgerBatch, insufficientPoints, ledgerRow, type Cause, type SpendableLot } from '../ledger/ledger.service';
import { Reward } from './reward.entity';
import { RewardKindRegistry, type RewardKindDefinition } from './reward-kinds';
import { Redemption, RedemptionStatus, type LotAllocation } from './redemption.entity';
import type { CancelRedemptionInput, ConsumeVoucherInput, RedeemRewardInput, UpsertRewardInput } from './reward.types';
import { DAY_MS } from '../../base/time';

/** Crockford base32 without look-alikes: 12 characters carry 60 random bits. */
const VOUCHER_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function voucherCode(): string {
  const chars = Array.from({ length: 12 }, () => VOUCHER_ALPHABET[randomInt(VOUCHER_ALPHABET.length)]).join('');
  return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8)}`;
}

function problemsOf(input: UpsertRewardInput, kind: RewardKindDefinition | undefined): FieldProblem[] {
  const p: FieldProblem[] = [];
  if (!kind) p.push({ path: 'input.kind', message: 'is not a reward kind this programme knows' });
  for (const field of kind?.requires ?? []) {
    if (!input[field]) p.push({ path: `input.${field}`, message: `is required for ${input.kind}` });
  }
  if (input.currency && !isCurrency(input.currency)) p.push({ path: 'input.currency', message: 'is not an ISO 4217 currency' });
  if (input.validFrom && input.validTo && input.validTo <= input.validFrom) p.push({ path: 'input.validTo', message: 'must be after validFrom' });
  return p;
}

/**
 * redeemReward's read before any lock: the replay check, the voucher validity, the member's status, and the reward with
 * their tier, holdings and campaign offer (REDEMPTION_INPUTS_SQL). Parameters: the redemption's idempotency key, the
 * member, REDEMPTION_INPUTS_SQL's.
 */
export const REDEEM_PRIOR_SQL = `select (select to_jsonb(r) from redemption r where r.idempotency_key = ?) as prior,
    (select s.voucher_valid_days from programme_settings s where s.id = 1) as voucher_valid_days,
    (select jsonb_build_object('status', m.status, 'mergedIntoId', m.merged_into_id) from member m where m.id = ?) as member_state,
    (select to_jsonb(x) from (${REDEMPTION_INPUTS_SQL}) x) as inputs`;

/** The member's balance, locked (member-lock.ts). Parameter: the member. */
export const BALANCE_LOCK_SQL = `select available::float8 as available, pending::float8 as pending, lifetime::float8 as lifetime
  from member_balance where member_id = ? for update`;

/**
 * What a redemption on the transactional path reads once it holds the member's lock: their status, the reward with
 * their tier, holdings and offer (REDEMPTION_INPUTS_SQL), and their available lots in the order they are spent.
 * Parameters: the member, REDEMPTION_INPUTS_SQL's, the member.
 */
export const REDEEM_READS_SQL = `select
    (select jsonb_build_object('status', m.status, 'mergedIntoId', m.merged_into_id) from member m where m.id = ?) as member_state,
    (select to_jsonb(x) from (${REDEMPTION_INPUTS_SQL}) x) as inputs,
    (select coalesce(jsonb_agg(jsonb_build_object('id', l.id, 'remaining', l.remaining, 'state', l.state) order by ${AVAILABLE_LOTS_ORDER}), '[]'::jsonb)
       from point_lot l where l.member_id = ? and l.state = 'AVAILABLE' and l.remaining > 0) as lots`;

const REDEMPTION_COLUMNS = `id, member_id, reward_id, points, status, voucher_code, idempotency_key, lot_allocations, created_at, expires_at, consumed_at,
  consumed_order_ref, cancelled_at, fulfilment, granted_by`;
/** redeemReward's write: the redemption (its columns' types are the table's). Parameter: the redemption. */
export const REDEMPTION_INSERT_CTE = `redemption_row as (insert into redemption (${REDEMPTION_COLUMNS})
    select ${REDEMPTION_COLUMNS} from jsonb_populate_record(null::redemption, ?::jsonb))`;
/** The reward's count, guarded by its stock. Parameter: the reward. */
export const REWARD_TAKEN_CTE = `reward_taken as (update reward set redeemed_count = redeemed_count + 1 where id = ? and (stock is null or redeemed_count < stock) returning id)`;

export class RewardService {
  constructor(
    private readonly members: MemberService,
    private readonly ledger: LedgerService,
    private readonly programme: ProgrammeService,
    private readonly tiers: TierService,
    private readonly audit: AuditService,
    private readonly events: EventService,
    private readonly campaignOffers: CampaignOfferService,
    /** Built-in and plugins' kinds: what each requires, and how its redemption completes. */
    readonly kinds: RewardKindRegistry = new RewardKindRegistry(),
  ) {}

  /** One member's one-statement redemptions in flight in this process, and those waiting to go with the next. */
  private readonly batches = new RedeemBatches();

  /** Each member's newest `first` redemptions (ids are UUIDv7, so id order is issue order), in the order of `memberIds`. */
  async redemptionsOf(em: EntityManager, memberIds: readonly string[], first: number): Promise<Redemption[][]> {
    const rows = await em.execute<{ id: string }[]>(
      `select r.id from unnest(array[?]::uuid[]) as m(id)
       cross join lateral (select x.id from redemption x where x.member_id = m.id order by x.id desc limit ?) r`,
      [memberIds as string[], first],
    );
    const found = rows.length ? await em.find(Redemption, { id: { $in: rows.map((r) => r.id) } }, { orderBy: { id: 'desc' } }) : [];
    const byMember = new Map<string, Redemption[]>(memberIds.map((id) => [id, []]));
    for (const r of found) byMember.get(r.member.id)?.push(r);
    return memberIds.map((id) => byMember.get(id)!);
  }

  /** Exact lookup of a voucher code as a checkout would type it: case and spaces do not matter. */
  async findVoucher(em: EntityManager, code: string): Promise<Redemption | null> {
    const normalised = code.replace(/\s+/g, '').toUpperCase();
    if (!normalised || normalised.length > 32) return null;
    return em.findOne(Redemption, { voucherCode: normalised });
  }

  list(em: EntityManager, activeOnly: boolean): Promise<Reward[]> {
    return em.find(Reward, activeOnly ? { isActive: true } : {}, { orderBy: { costPoints: 'asc', code: 'asc' } });
  }

  /** Rewards the member could redeem right now: live, allowed for their tier, and within their available points. */
  async affordable(em: EntityManager, memberId: string, available: number, now = new Date()): Promise<Reward[]> {
    const { tier } = await this.tiers.current(em, memberId);
    const rewards = await em.find(Reward, { isActive: true, costPoints: { $lte: available } }, { orderBy: { costPoints: 'asc' } });
    return rewards.filter((r) => this.unavailability(r, tier?.code ?? null, now) === null && (r.stock === null || r.redeemedCount < r.stock));
  }

  async upsert(ctx: Context, input: UpsertRewardInput): Promise<Reward> {
    const problems = problemsOf(input, this.kinds.get(input.kind));
    if (problems.length) throw AppError.badInput(problems);
    return upsertByKey(
      () =>
        ctx.em.transactional(async (em) => {
          await this.checkTierCodes(em, input.tierCodes);
          const existing = await em.findOne(Reward, { code: input.code }, { lockMode: LockMode.PESSIMISTIC_WRITE });
          const reward = existing ?? em.create(Reward, { code: input.code, name: input.name, kind: input.kind, costPoints: input.costPoints });
          const before = existing ? { costPoints: existing.costPoints, stock: existing.stock, isActive: existing.isActive } : null;
          em.assign(reward, {
            name: input.name,
            kind: input.kind,
            costPoints: input.costPoints,
            sku: input.sku ?? null,
            valueMinor: input.valueMinor ?? null,
            currency: input.currency ?? null,
            percentOff: input.percentOff ?? null,
            partner: input.partner ?? null,
            stock: input.stock ?? null,
            perMemberLimit: input.perMemberLimit ?? null,
            validFrom: input.validFrom ?? null,
            validTo: input.validTo ?? null,
            tierCodes: input.tierCodes,
            isActive: input.isActive,
          });
          await em.flush();
          this.audit.record(em, ctx, { action: existing ? 'reward.update' : 'reward.create', entityType: 'Reward', entityId: reward.id, before, after: { ...input } });
          return reward;
        }),
      () => AppError.conflict('IDENTIFIER_TAKEN', 'A reward with this code already exists', { field: 'input.code' }),
    );
  }

  /** A reward limited to a tier that does not exist could never be redeemed: refused, as segments refuse one. */
  private async checkTierCodes(em: EntityManager, codes: readonly string[]): Promise<void> {
    if (codes.length === 0) return;
    const known = new Set((await this.tiers.list(em)).map((t) => t.code));
    const unknown = codes.flatMap((code, i) => (known.has(code) ? [] : [{ path: `input.tierCodes.${i}`, message: `no tier has the code ${code}` }]));
    if (unknown.length) throw AppError.badInput(unknown);
  }

  /**
   * Spends the member's points on a reward and issues a voucher. The member's balance lock serialises their
   * redemptions (no overspending); a conditional update of the reward's count guards its stock.
   *
   * The hot path, with none of it through the ORM's unit of work. One statement before any lock reads the replay check,
   * the voucher validity, the member's status and the reward with their tier, holdings and offer. Then, for a reward
   * that needs nothing decided under the lock but the points, the limit and the stock (no plugin fulfilment, no
   * campaign offer, no tier restriction), one statement of its own takes the lock, checks and writes everything and
   * commits (`redeem_rewards_locked`, with the member's other redemptions that arrived meanwhile: redeem-batches.ts):
   * the lock is never held across a round trip to the API. Anything else, and a member with no balance row yet or
   * merged away, takes the transactional path (`redeemUnderLock`).
   */
  async redeem(ctx: Context, input: RedeemRewardInput): Promise<Redemption> {
    // Keyed by the member the caller named, so that a retry naming a record merged since finds the first attempt.
    const key = `${input.memberId}:${input.idempotencyKey}`;
    const now = new Date();
    const [first] = await runPrepared<PriorRead>(ctx.em, REDEEM_PRIOR_SQL, [key, input.memberId, input.memberId, input.memberId, input.memberId, now, now, input.rewardId]);
    if (first.prior) return this.replayed(ctx.em.map(Redemption, first.prior), input.rewardId);
    if (!first.member_state) throw AppError.notFound('Member', input.memberId);
    let member = { id: input.memberId, status: first.member_state.status };
    if (first.member_state.status === MemberStatus.MERGED && first.member_state.mergedIntoId) {
      member = await this.members.findById(ctx.em, input.memberId);
      const prior = await ctx.em.findOne(Redemption, { idempotencyKey: `${member.id}:${input.idempotencyKey}` });
      if (prior) return this.replayed(prior, input.rewardId);
    }
    if (member.status !== MemberStatus.ACTIVE) throw AppError.conflict('MEMBER_ERASED', 'This member has been erased');
    // A member merged away while this redemption waited for their lock redeems on the survivor (member-lock.ts).
    const write = async (memberId: string) => {
      const row =
        (memberId === input.memberId && first.inputs ? await this.redeemInOneStatement(ctx, memberId, key, first, now) : null) ??
        (await this.redeemUnderLock(ctx, input, memberId, key, first.voucher_valid_days));
      // Mapped after the commit, outside the member's lock.
      return ctx.em.map(Redemption, row);
    };
    return idempotent(
      () => onLiveMember(member.id, write),
      () => ctx.em.fork().findOne(Redemption, { idempotencyKey: key }),
      (winner) => this.replayed(winner, input.rewardId),
    );
  }

  /**
   * The redemption as one statement under the member's lock, from the inputs read before it; null, having written
   * nothing, when it is for the transactional path: a plugin's fulfilment, a campaign offer, a tier restriction (each
   * read under the lock there), an unknown kind, or no balance row yet.
   */
  private async redeemInOneStatement(ctx: Context, memberId: string, key: string, first: PriorRead, now: Date): Promise<RedemptionRow | null> {
    const { reward, offer } = redemptionInputsOf(ctx.em, first.inputs!);
    const kind = this.kinds.get(reward.kind);
    if (!kind || kind.fulfil || offer || reward.tierCodes.length) return null;
    const reason = this.unavailability(reward, null, now);
    if (reason) throw unavailable(reason);
    const cost = reward.costPoints;
    const redemption = this.redemptionRow(memberId, reward, kind.completion === 'AT_ONCE', cost, key, now, first.voucher_valid_days);
    const answer = await this.batches.redeem(ctx.em, memberId, {
      reward_id: reward.id,
      cost,
      per_member_limit: reward.perMemberLimit,
      redemption: { ...redemption },
      ledger: { ...ledgerRow(memberId, LedgerReason.REDEMPTION, this.spendCause(ctx, redemption.id, now), { pending: 0, available: -cost, lifetime: 0 }) },
      events: outboxRows([this.redeemedEvent(redemption)]),
    });
    if (answer.outcome === 'NO_BALANCE') return null;
    if (answer.outcome === 'MOVED') throw new MemberMoved(memberId, answer.survivor_id);
    if (answer.outcome !== 'DONE') throw AppError.conflict('MEMBER_ERASED', 'This member has been erased', { memberId });
    const { result } = answer;
    if (result.outcome === 'LIMIT_REACHED') throw limitReached(reward.perMemberLimit!);
    if (result.outcome === 'INSUFFICIENT_POINTS') throw insufficientPoints(Number(result.available), cost);
    if (result.outcome === 'OUT_OF_STOCK') throw outOfStock();
    // Its idempotency key committed by a twin first: idempotent() answers with the twin's redemption.
    if (result.outcome === 'DUPLICATE') throw new UniqueConstraintViolationException(new Error(`redemption ${key} was written first by another request`));
    // The lock was held once for the `writes` redemptions written under it: each request counts its share.
    noteMemberLockHeld(ctx.em, answer.holdSeconds / answer.writes);
    ctx.log.info({ memberId, rewardId: reward.id, delta: -cost }, 'points.redeemed');
    return { ...redemption, lot_allocations: result.lot_allocations };
  }

  /**
   * The redemption in a transaction: the member's lock (one statement), their status with the reward, tier, holdings,
   * campaign offer and lots (one), a plugin's fulfilment, and the redemption, the lots taken from, the ledger row, the
   * balance, the event and the reward's count (one) just before the commit.
   */
  private redeemUnderLock(ctx: Context, input: RedeemRewardInput, memberId: string, key: string, voucherValidDays: number): Promise<RedemptionRow> {
    return ctx.em.transactional(async (em) => {
      const now = new Date();
      const [locked] = await runPrepared<{ available: number; pending: number; lifetime: number }>(em, BALANCE_LOCK_SQL, [memberId]);
      let bal: MemberBalance;
      if (locked) {
        noteMemberLockTaken(em);
        bal = Object.assign(new MemberBalance(), { member: em.getReference(Member, memberId, { wrapped: true }), ...locked });
      } else bal = await this.ledger.lock(em, memberId); // their first points change: the row is created
      const [read] = await runPrepared<{ member_state: { status: string; mergedIntoId: string | null } | null; inputs: Record<string, unknown> | null; lots: SpendableLot[] }>(
        em,
        REDEEM_READS_SQL,
        [memberId, memberId, memberId, memberId, now, now, input.rewardId, memberId],
      );
      const state = read.member_state;
      if (!state) throw AppError.notFound('Member', memberId);
      if (state.status === MemberStatus.MERGED && state.mergedIntoId) throw new MemberMoved(memberId, state.mergedIntoId);
      if (state.status === MemberStatus.ERASED) throw AppError.conflict('MEMBER_ERASED', 'This member has been erased', { memberId });
      const inputs = read.inputs ? redemptionInputsOf(em, read.inputs) : null;
      if (!inputs) throw AppError.notFound('Reward', input.rewardId);
      const { reward, tierCode, held, offer } = inputs;
      const reason = this.unavailability(reward, tierCode, now);
      if (reason) throw unavailable(reason);
      if (reward.perMemberLimit !== null && held >= reward.perMemberLimit) throw limitReached(reward.perMemberLimit);
      // A treated member of a running REWARD_DISCOUNT campaign pays the offered cost, once (docs/concepts/campaigns.md).
      const cost = offer?.costPoints ?? reward.costPoints;
      if (bal.available < cost) throw insufficientPoints(bal.available, cost);
      if (reward.stock !== null && reward.redeemedCount >= reward.stock) throw outOfStock();

      const kind = this.kinds.get(reward.kind);
      if (!kind) throw unavailable('UNKNOWN_KIND');
      const redemption = this.redemptionRow(memberId, reward, kind.completion === 'AT_ONCE', cost, key, now, voucherValidDays);
      if (offer) await this.campaignOffers.markUsed(em, offer, memberId, redemption.id, now);
      const batch = new LedgerBatch();
      redemption.lot_allocations = this.ledger.spendInto(batch, bal, cost, read.lots, LedgerReason.REDEMPTION, this.spendCause(ctx, redemption.id, now));
      if (kind.fulfil) redemption.fulfilment = (await kind.fulfil({ em, reward, memberId, redemptionId: redemption.id, points: cost, now })) ?? null;
      const outbox = this.events.recordAllCte([this.redeemedEvent(redemption)]);
      const ledger = batch.ctes();
      // One statement just before the commit: the reward's row is shared by every member redeeming it, so its lock is
      // held only from here to the commit. The stock condition is the real guard: no row taken, nothing kept.
      const [written] = await runPrepared<{ taken: number }>(
        em,
        `with ${[REDEMPTION_INSERT_CTE, ...ledger.sql, outbox.sql, REWARD_TAKEN_CTE].join(',\n')}
           select (select count(*) from reward_taken)::int as taken`,
        [JSON.stringify(redemption), ...ledger.params, outbox.param, reward.id],
      );
      if (written.taken === 0) throw outOfStock();
      ctx.log.info({ memberId: memberId, rewardId: reward.id, delta: -cost, ...(offer ? { campaignId: offer.campaignId } : {}) }, 'points.redeemed');
      return redemption;
    });
  }

  /** A new redemption's row, its lots not yet taken. */
  private redemptionRow(memberId: string, reward: Reward, isAtOnce: boolean, cost: number, key: string, now: Date, voucherValidDays: number): RedemptionRow {
    return {
      id: newId(),
      member_id: memberId,
      reward_id: reward.id,
      points: cost,
      status: isAtOnce ? RedemptionStatus.CONSUMED : RedemptionStatus.ISSUED,
      voucher_code: isAtOnce ? null : voucherCode(),
      idempotency_key: key,
      lot_allocations: [],
      created_at: now,
      expires_at: isAtOnce ? null : new Date(now.getTime() + voucherValidDays * DAY_MS),
      consumed_at: isAtOnce ? now : null,
      consumed_order_ref: null,
      cancelled_at: null,
      fulfilment: null,
      granted_by: null,
    };
  }

  private spendCause(ctx: Context, redemptionId: string, now: Date): Cause {
    return { sourceType: 'redemption', sourceId: redemptionId, key: `redemption:${redemptionId}`, actor: actorRef(ctx.principal), at: now };
  }

  private redeemedEvent(r: RedemptionRow): PendingEvent {
    return this.events.pending(
      EventType.REWARD_REDEEMED,
      { memberId: r.member_id, redemptionId: r.id, rewardId: r.reward_id, points: r.points, status: r.status, expiresAt: r.expires_at?.toISOString() ?? null },
      { memberId: r.member_id, occurredAt: r.created_at },
    );
  }

  /**
   * Issues a reward the member earned rather than bought (a goal reached): a redemption of 0 points, its voucher as a
   * bought one's, `grantedBy` naming the cause. Runs in the caller's transaction, which holds the member's balance lock
   * (an earning run's). Once per `key`: a second call with it returns null. Also null, writing nothing, when the reward is
   * unknown, not redeemable now (inactive, outside its dates; tier restrictions do not apply to a grant) or out of stock:
   * the caller decides what the member gets instead.
   */
  async grant(em: EntityManager, input: { memberId: string; rewardId: string; key: string; grantedBy: string; now: Date }): Promise<Redemption | null> {
    const idempotencyKey = `grant:${input.key}`.slice(0, 120);
    if (await em.count(Redemption, { idempotencyKey })) return null;
    const reward = await em.findOne(Reward, input.rewardId);
    if (!reward || this.unavailability(reward, null, input.now) || !this.kinds.get(reward.kind)) return null;
    const taken = await em.execute(`update reward set redeemed_count = redeemed_count + 1 where id = ? and (stock is null or redeemed_count < stock)`, [reward.id], 'run');
    if ((taken as { affectedRows?: number }).affectedRows === 0) return null;
    const settings = await this.programme.settings(em);
    const kind = this.kinds.get(reward.kind)!;
    const isAtOnce = kind.completion === 'AT_ONCE';
    const redemption = em.create(Redemption, {
      member: input.memberId,
      reward,
      points: 0,
      status: isAtOnce ? RedemptionStatus.CONSUMED : RedemptionStatus.ISSUED,
      voucherCode: isAtOnce ? null : voucherCode(),
      idempotencyKey,
      lotAllocations: [],
      expiresAt: isAtOnce ? null : new Date(input.now.getTime() + settings.voucherValidDays * DAY_MS),
      consumedAt: isAtOnce ? input.now : null,
      grantedBy: input.grantedBy.slice(0, 120),
    });
    if (kind.fulfil) redemption.fulfilment = (await kind.fulfil({ em, reward, memberId: input.memberId, redemptionId: redemption.id, points: 0, now: input.now })) ?? null;
    await this.events.record(
      em,
      EventType.REWARD_REDEEMED,
      { memberId: input.memberId, redemptionId: redemption.id, rewardId: reward.id, points: 0, status: redemption.status, expiresAt: redemption.expiresAt?.toISOString() ?? null },
      { memberId: input.memberId, occurredAt: input.now },
    );
    return redemption;
  }

  /** At checkout: a voucher works once, before it expires, for its own member. `at` is injectable for tests. */
  async consume(ctx: Context, input: ConsumeVoucherInput, at?: Date): Promise<Redemption> {
    const code = input.voucherCode.trim().toUpperCase();
    const buyer = input.memberId ? await this.members.findById(ctx.em, input.memberId) : null;
    return ctx.em.transactional(async (em) => {
      const redemption = await em.findOne(Redemption, { voucherCode: code }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!redemption) throw AppError.notFound('Voucher');
      const now = at ?? new Date();
      if (buyer && redemption.member.id !== buyer.id && !(await this.wasMergedInto(em, buyer.id, redemption.member.id))) throw this.unusable('OTHER_MEMBER');
      const status = this.statusAt(redemption, now);
      if (status !== RedemptionStatus.ISSUED) throw this.unusable(status);
      redemption.status = RedemptionStatus.CONSUMED;
      redemption.consumedAt = now;
      redemption.consumedOrderRef = input.orderRef ?? null;
      return redemption;
    });
  }

  /**
   * An unused voucher can be cancelled until it expires: its points go back to the lots they came from, its unit back
   * to stock. `at` is injectable for tests.
   */
  async cancel(ctx: Context, input: CancelRedemptionInput, at?: Date): Promise<Redemption> {
    // The member's lock before the redemption's (the global lock order: modules/ledger/member-lock.ts).
    const owner = await ctx.em.fork().findOne(Redemption, input.redemptionId, { fields: ['member'] });
    if (!owner) throw AppError.notFound('Redemption', input.redemptionId);
    return onLiveMember(owner.member.id, (memberId) =>
      ctx.em.transactional(async (em) => {
        const bal = await this.ledger.lockLive(em, memberId, { allowErased: true });
        const redemption = await em.findOne(Redemption, input.redemptionId, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
        if (!redemption) throw AppError.notFound('Redemption', input.redemptionId);
        // Moved by a merge between the read above and the lock: run again with the member who holds it now.
        if (redemption.member.id !== memberId) throw new MemberMoved(memberId, redemption.member.id);
        const now = at ?? new Date();
        const status = this.statusAt(redemption, now);
        if (status !== RedemptionStatus.ISSUED) {
          throw AppError.conflict('REDEMPTION_NOT_CANCELLABLE', `A ${status.toLowerCase()} redemption cannot be cancelled`, { status });
        }
        await em.execute('update reward set redeemed_count = redeemed_count - 1 where id = ?', [redemption.reward.id]);
        await this.ledger.restore(em, bal, redemption.lotAllocations, {
          sourceType: 'redemption',
          sourceId: redemption.id,
          key: `redemption-cancel:${redemption.id}`,
          actor: actorRef(ctx.principal),
        });
        redemption.status = RedemptionStatus.CANCELLED;
        redemption.cancelledAt = now;
        return redemption;
      }),
    );
  }

  /**
   * Whether `memberId` is now a record merged into `survivorId`: a merge that committed after the buyer was read moved
   * their voucher to the survivor (the voucher's lock waited for it). A merge points earlier ones straight at its survivor.
   */
  private async wasMergedInto(em: EntityManager, memberId: string, survivorId: string): Promise<boolean> {
    const rows = await em.execute(`select 1 from member where id = ? and status = 'MERGED' and merged_into_id = ?`, [memberId, survivorId]);
    return rows.length > 0;
  }

  /**
   * A voucher's status at `now`. Expiry is a time, not the sweep: an issued voucher is EXPIRED from its `expiresAt` on
   * (the instant included, as `expireVouchers` counts it), before the sweep writes it.
   */
  private statusAt(redemption: Redemption, now: Date): RedemptionStatus {
    const hasLapsed = redemption.status === RedemptionStatus.ISSUED && redemption.expiresAt !== null && redemption.expiresAt <= now;
    return hasLapsed ? RedemptionStatus.EXPIRED : redemption.status;
  }

  /**
   * Policy: a voucher not used by its expiry date lapses; its points are not refunded (members are told the
   * expiry date when they redeem), and its unit goes back to stock.
   */
  async expireVouchers(rootEm: EntityManager, now: Date): Promise<number> {
    let expired = 0;
    for (;;) {
      const due = await rootEm.fork().find(Redemption, { status: RedemptionStatus.ISSUED, expiresAt: { $lte: now } }, { limit: 500, fields: ['id'] });
      if (due.length === 0) return expired;
      for (const { id } of due) {
        await rootEm.fork().transactional(async (em) => {
          const r = await em.findOne(Redemption, { id, status: RedemptionStatus.ISSUED }, { lockMode: LockMode.PESSIMISTIC_WRITE });
          if (!r) return;
          r.status = RedemptionStatus.EXPIRED;
          await em.execute('update reward set redeemed_count = redeemed_count - 1 where id = ?', [r.reward.id]);
          expired++;
        });
      }
    }
  }

  private unavailability(reward: Reward, tierCode: string | null, now: Date): string | null {
    if (!reward.isActive) return 'INACTIVE';
    if (reward.validFrom && now < reward.validFrom) return 'NOT_STARTED';
    if (reward.validTo && now >= reward.validTo) return 'ENDED';
    if (reward.tierCodes.length && (!tierCode || !reward.tierCodes.includes(tierCode))) return 'TIER_REQUIRED';
    return null;
  }

  private unusable(reason: 'CONSUMED' | 'CANCELLED' | 'EXPIRED' | 'OTHER_MEMBER'): AppError {
    return new AppError('VOUCHER_UNUSABLE', `This voucher cannot be used (${reason})`, { reason });
  }

  private replayed(prior: Redemption, rewardId: string): Redemption {
    if (prior.reward.id !== rewardId) {
      throw AppError.conflict('IDEMPOTENCY_KEY_REUSED', 'This idempotency key was used for another reward', { redemptionId: prior.id });
    }
    return prior;
  }
}

/** REDEEM_PRIOR_SQL's row. */
interface PriorRead {
  prior: Record<string, unknown> | null;
  voucher_valid_days: number;
  member_state: { status: MemberStatus; mergedIntoId: string | null } | null;
  inputs: Record<string, unknown> | null;
}

/** A redemption row as the write statements take it (the table's column names). */
interface RedemptionRow {
  id: string;
  member_id: string;
  reward_id: string;
  points: number;
  status: RedemptionStatus;
  voucher_code: string | null;
  idempotency_key: string;
  lot_allocations: LotAllocation[];
  created_at: Date;
  expires_at: Date | null;
  consumed_at: Date | null;
  consumed_order_ref: null;
  cancelled_at: null;
  fulfilment: Record<string, unknown> | null;
  granted_by: null;
}

const unavailable = (reason: string) => new AppError('REWARD_UNAVAILABLE', `This reward cannot be redeemed now (${reason})`, { reason });
const limitReached = (limit: number) =>
  new AppError('REWARD_LIMIT_REACHED', 'The member already holds the most redemptions of this reward allowed', { limit });
const outOfStock = () => new AppError('REWARD_OUT_OF_STOCK', 'This reward is out of stock');
