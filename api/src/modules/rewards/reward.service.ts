import { randomInt } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../../base/context';
import { AppError, conflictOnDuplicate, type FieldProblem } from '../../base/errors';
import { isCurrency } from '../../base/currency';
import { idempotent } from '../../base/idempotent';
import { actorRef } from '../auth/principal';
import type { AuditService } from '../audit/audit.service';
import { MemberStatus } from '../members/member.entity';
import type { MemberService } from '../members/member.service';
import type { LedgerService } from '../ledger/ledger.service';
import { MemberMoved, onLiveMember } from '../ledger/member-lock';
import { LedgerReason } from '../ledger/ledger-entry.entity';
import type { ProgrammeService } from '../programme/programme.service';
import type { TierService } from '../tiers/tier.service';
import type { EventService } from '../events/event.service';
import type { CampaignOfferService } from '../campaigns/campaign-offers';
import { EventType } from '../events/event-types';
import { readRedemptionInputs } from './redemption-reads';
import { Reward } from './reward.entity';
import { RewardKindRegistry, type RewardKindDefinition } from './reward-kinds';
import { Redemption, RedemptionStatus } from './redemption.entity';
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
    return conflictOnDuplicate(
      () =>
        ctx.em.transactional(async (em) => {
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

  /**
   * Spends the member's points on a reward and issues a voucher. The member's balance lock serialises their
   * redemptions (no overspending); a conditional update of the reward's count guards its stock.
   */
  async redeem(ctx: Context, input: RedeemRewardInput): Promise<Redemption> {
    // The programme's settings hold no member data: read with the member, before the transaction.
    const [member, settings] = await Promise.all([this.members.findById(ctx.em, input.memberId), this.programme.settings(ctx.em)]);
    // Keyed by the member the caller named, so that a retry naming a record merged since finds the first attempt.
    const key = `${input.memberId}:${input.idempotencyKey}`;
    const priorKeys = [...new Set([key, `${member.id}:${input.idempotencyKey}`])];
    const prior = await ctx.em.findOne(Redemption, { idempotencyKey: { $in: priorKeys } });
    if (prior) return this.replayed(prior, input.rewardId);
    if (member.status !== MemberStatus.ACTIVE) throw AppError.conflict('MEMBER_ERASED', 'This member has been erased');
    // A member merged away while this redemption waited for their lock redeems on the survivor (member-lock.ts).
    const write = (memberId: string) =>
      ctx.em.transactional(async (em) => {
        const now = new Date();
        const bal = await this.ledger.lockLive(em, memberId);
        const inputs = await readRedemptionInputs(em, memberId, input.rewardId, now);
        if (!inputs) throw AppError.notFound('Reward', input.rewardId);
        const { reward, tierCode, held, offer } = inputs;
        const reason = this.unavailability(reward, tierCode, now);
        if (reason) throw new AppError('REWARD_UNAVAILABLE', `This reward cannot be redeemed now (${reason})`, { reason });
        if (reward.perMemberLimit !== null && held >= reward.perMemberLimit) {
          throw new AppError('REWARD_LIMIT_REACHED', 'The member already holds the most redemptions of this reward allowed', { limit: reward.perMemberLimit });
        }
        // A treated member of a running REWARD_DISCOUNT campaign pays the offered cost, once (docs/concepts/campaigns.md).
        const cost = offer?.costPoints ?? reward.costPoints;
        if (bal.available < cost) {
          throw new AppError('INSUFFICIENT_POINTS', 'Not enough available points', { available: bal.available, required: cost });
        }
        if (reward.stock !== null && reward.redeemedCount >= reward.stock) throw new AppError('REWARD_OUT_OF_STOCK', 'This reward is out of stock');

        const kind = this.kinds.get(reward.kind);
        if (!kind) throw new AppError('REWARD_UNAVAILABLE', 'This reward cannot be redeemed now (UNKNOWN_KIND)', { reason: 'UNKNOWN_KIND' });
        const isAtOnce = kind.completion === 'AT_ONCE';
        const redemption = em.create(Redemption, {
          member: memberId,
          reward,
          points: cost,
          status: isAtOnce ? RedemptionStatus.CONSUMED : RedemptionStatus.ISSUED,
          voucherCode: isAtOnce ? null : voucherCode(),
          idempotencyKey: key,
          lotAllocations: [],
          expiresAt: isAtOnce ? null : new Date(now.getTime() + settings.voucherValidDays * DAY_MS),
          consumedAt: isAtOnce ? now : null,
        });
        if (offer) await this.campaignOffers.markUsed(em, offer, memberId, redemption.id, now);
        redemption.lotAllocations = await this.ledger.spend(em, bal, cost, LedgerReason.REDEMPTION, {
          sourceType: 'redemption',
          sourceId: redemption.id,
          key: `redemption:${redemption.id}`,
          actor: actorRef(ctx.principal),
        });
        if (kind.fulfil) redemption.fulfilment = (await kind.fulfil({ em, reward, memberId, redemptionId: redemption.id, points: cost, now })) ?? null;
        await this.events.record(
          em,
          EventType.REWARD_REDEEMED,
          { memberId: memberId, redemptionId: redemption.id, rewardId: reward.id, points: cost, status: redemption.status, expiresAt: redemption.expiresAt?.toISOString() ?? null },
          { memberId: memberId, occurredAt: now },
        );
        // The reward's row is shared by every member redeeming it: take its lock last, after everything else is
        // written, so that it is held only until the commit. The stock condition is the real guard.
        await em.flush();
        const taken = await em.execute(
          `update reward set redeemed_count = redeemed_count + 1 where id = ? and (stock is null or redeemed_count < stock)`,
          [reward.id],
          'run',
        );
        if ((taken as { affectedRows?: number }).affectedRows === 0) throw new AppError('REWARD_OUT_OF_STOCK', 'This reward is out of stock');
        ctx.log.info({ memberId: memberId, rewardId: reward.id, delta: -cost, ...(offer ? { campaignId: offer.campaignId } : {}) }, 'points.redeemed');
        return redemption;
      });
    return idempotent(
      () => onLiveMember(member.id, write),
      () => ctx.em.fork().findOne(Redemption, { idempotencyKey: key }),
      (winner) => this.replayed(winner, input.rewardId),
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
      if (buyer && redemption.member.id !== buyer.id) throw this.unusable('OTHER_MEMBER');
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
