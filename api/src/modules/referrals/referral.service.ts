import { checkPageSize, decodeCursor, pageOf } from '../../base/pagination';
import type { ReferralConnection } from './referral.types';
import { LockMode, ref } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../../base/context';
import { AppError, conflictOnDuplicate } from '../../base/errors';
import { Member, MemberStatus } from '../members/member.entity';
import type { MemberService } from '../members/member.service';
import { IdentifierType, MemberIdentifier } from '../members/member-identifier.entity';
import { Order } from '../orders/order.entity';
import type { LedgerService } from '../ledger/ledger.service';
import { lockMembers, onLiveMember } from '../ledger/member-lock';
import { LedgerReason } from '../ledger/ledger-entry.entity';
import { LotState, PointLot } from '../ledger/point-lot.entity';
import { CoLockChanged, type CreditableOrder, type EarningRun } from '../earning/pipeline';
import { Referral, ReferralRefusal, ReferralStatus } from './referral.entity';
import type { ApplyReferralCodeInput } from './referral.types';

const CODE = /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}$/;
const GMAIL = new Set(['gmail.com', 'googlemail.com']);
const MAX_MERGE_HOPS = 5;
/** A member row's current record: itself, or the survivor it was merged into (a merge points earlier ones straight at it). */
const HOLDER = 'coalesce(m.merged_into_id, m.id)';

/** Upper case without spaces or dashes, so "k7pm-3xq9" and "K7PM 3XQ9" are one code. */
export function normaliseReferralCode(raw: string): string {
  return raw.toUpperCase().replace(/[\s-]/g, '');
}

/** The mailbox an address reaches: lower case, no +tag, and for Gmail no dots (ann.smith+2@gmail.com = annsmith@gmail.com). */
export function canonicalEmail(email: string): string {
  const [local, domain] = email.toLowerCase().split('@');
  if (!domain) return email.toLowerCase();
  const bare = local.split('+')[0];
  return GMAIL.has(domain) ? `${bare.replace(/\./g, '')}@gmail.com` : `${bare}@${domain}`;
}

function refused(reason: ReferralRefusal, message: string, details: Record<string, unknown> = {}): AppError {
  return new AppError('REFERRAL_NOT_ALLOWED', message, { reason, ...details });
}

/**
 * Referrals: a member gives another's code at enrolment (or before their first order); the referred member's first
 * qualifying order credits both, once, in the order's own transaction. docs/concepts/referrals.md.
 */
export class ReferralService {
  constructor(
    private readonly members: MemberService,
    private readonly ledger: LedgerService,
  ) {}

  /** Enrolment step: runs in the enrolment's transaction once the new member is flushed. */
  async referAtEnrolment(em: EntityManager, member: Member, rawCode: string): Promise<void> {
    await this.attach(em, member, rawCode, 'input.referralCode');
  }

  /** For a member who enrolled without a code and has not ordered yet. */
  async apply(ctx: Context, input: ApplyReferralCodeInput): Promise<Referral> {
    const resolved = await this.members.findById(ctx.em, input.memberId);
    return conflictOnDuplicate(
      // A member merged away while this waited for their lock is referred on the survivor (modules/ledger/member-lock.ts).
      () => onLiveMember(resolved.id, (memberId) =>
        ctx.em.transactional(async (em) => {
          // Two referrals that close a cycle between them would each find no cycle: they are serialised by a lock taken
          // before any other, so none of them waits for it holding a row another one needs. Enrolment needs no such lock:
          // a new member refers nobody yet, so cannot close one.
          await em.execute('select pg_advisory_xact_lock(hashtext(?))', ['referral.apply']);
          // Then the member locks, as their orders and merges take them: the referral comes before the first order or is
          // refused ALREADY_ORDERED, and a merge sees it (and moves or voids it). An erased member answers MEMBER_ERASED.
          // The referrer's is taken with it, in id order (member-lock.ts), for `attach`.
          const referrerId = await this.holderOf(em, input.referralCode);
          if (referrerId) await lockMembers(em, [memberId, referrerId]);
          await this.ledger.lockLive(em, memberId);
          const member = await em.findOneOrFail(Member, memberId, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
          const earlier = await em.findOne(Referral, { referred: member.id });
          if (earlier) throw refused(ReferralRefusal.ALREADY_REFERRED, 'This member was referred already', { referralId: earlier.id });
          if (await em.count(Order, { member: member.id })) throw refused(ReferralRefusal.ALREADY_ORDERED, 'A referral must come before the first order');
          return this.attach(em, member, input.referralCode, 'input.referralCode');
        }),
      ),
      () => refused(ReferralRefusal.ALREADY_REFERRED, 'This member was referred already'),
    );
  }

  /**
   * The referrer of the member's waiting referral, read before any lock: an order takes the locks of both members
   * first, in id order (modules/ledger/member-lock.ts), and `creditOnOrder` checks it holds the one it finds then.
   */
  async pendingReferrerOf(em: EntityManager, memberId: string): Promise<string | null> {
    const [row] = await em.execute<{ referrer_id: string }[]>(`select referrer_id from referral where referred_id = ? and status = 'PENDING'`, [memberId]);
    return row?.referrer_id ?? null;
  }

  /** `pendingReferrerOf` for a batch of members, in one statement. */
  async pendingReferrersOf(em: EntityManager, memberIds: readonly string[]): Promise<string[]> {
    if (memberIds.length === 0) return [];
    const rows = await em.execute<{ referrer_id: string }[]>(`select distinct referrer_id from referral where referred_id in (?) and status = 'PENDING'`, [[...memberIds]]);
    return rows.map((r) => r.referrer_id);
  }

  /**
   * Earning step of an order, in the order's transaction with the balances of the referred member and of the referrer
   * locked by the run (which serialises their orders, so two concurrent first orders credit once; the referral row
   * lock and the ledger keys guard it again). The referrer's status is read under their lock: a merge or erasure of the
   * referrer either finished before (the bonus goes to the survivor; an erased referrer's referral is void) or waits
   * for this. Qualifying: an order in the programme currency whose total is at least `referralMinOrderMinor` (a claimed
   * guest order does not qualify: referral-earning.ts). The bonus is pending for the return window, like the order's
   * points. Returns the referral's status afterwards (null: none waited).
   */
  async creditOnOrder(run: EarningRun, order: Pick<CreditableOrder, 'id' | 'currency' | 'totalMinor' | 'returnedMinor'>, memberId: string, at: Date): Promise<ReferralStatus | null> {
    const { em } = run;
    const settings = run.terms.settings;
    const referral = await em.findOne(Referral, { referred: memberId, status: ReferralStatus.PENDING }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!referral) return null;
    if (order.currency !== settings.pointValueCurrency || order.totalMinor - order.returnedMinor < settings.referralMinOrderMinor) return referral.status;
    // Attached, or moved to a merge's survivor, after the order read the referrer: their lock is not held.
    if (!run.holdsLock(referral.referrer.id)) throw new CoLockChanged();

    // The guards are checked again now: merges and identifier changes since enrolment count.
    const referrer = await this.members.findById(em, referral.referrer.id);
    const reason =
      referrer.id === memberId
        ? ReferralRefusal.SELF_REFERRAL
        : referrer.status === MemberStatus.ERASED
          ? ReferralRefusal.REFERRER_INACTIVE
          : (await this.shareIdentifier(em, referrer.id, memberId))
            ? ReferralRefusal.SAME_IDENTIFIER
            : (await this.isAbove(em, memberId, referrer.id))
              ? ReferralRefusal.CIRCULAR
              : null;
    if (reason) {
      Object.assign(referral, { status: ReferralStatus.VOID, voidReason: reason, voidedAt: at });
      run.log.info({ referralId: referral.id, reason }, 'referral.voided');
      return referral.status;
    }
    if (!run.holdsLock(referrer.id)) throw new CoLockChanged();

    const shares = [
      { role: 'referred', memberId, points: settings.referralReferredPoints },
      { role: 'referrer', memberId: referrer.id, points: settings.referralReferrerPoints },
    ];
    for (const share of shares) {
      const cause = { sourceType: 'referral', sourceId: referral.id, key: `referral:${referral.id}:${order.id}:${share.role}`, actor: run.actor, at, note: `referral ${share.role}` };
      run.earn(share.memberId, share.points, cause, LedgerReason.REFERRAL);
    }
    Object.assign(referral, {
      status: ReferralStatus.CREDITED,
      orderId: order.id,
      referredPoints: settings.referralReferredPoints,
      referrerPoints: settings.referralReferrerPoints,
      creditedAt: at,
    });
    run.log.info({ referralId: referral.id, orderId: order.id, referrerId: referrer.id, referredId: memberId }, 'referral.credited');
    return referral.status;
  }

  /**
   * Return step, in the return's transaction: when a return brings the qualifying order below the minimum while the
   * bonus is still pending (inside the return window), both bonuses are taken back and the referral waits again for a
   * qualifying order. After the window the bonus stays. Returns whether it was reversed.
   */
  async reverseOnReturn(run: EarningRun, order: Pick<CreditableOrder, 'id' | 'totalMinor' | 'returnedMinor'>, at: Date): Promise<boolean> {
    const { em } = run;
    const referral = await em.findOne(Referral, { orderId: order.id, status: ReferralStatus.CREDITED }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!referral || order.totalMinor - order.returnedMinor >= run.terms.settings.referralMinOrderMinor) return false;
    // The lots are read once their members are locked: an erasure (which closes the referrer's lots) or a release that
    // committed while this return waited for a lock is then seen, not written over.
    const holders = await em.execute<{ member_id: string }[]>(`select distinct member_id from point_lot where source_type = 'referral' and source_id = ? order by 1`, [referral.id]);
    for (const { member_id } of holders) await run.lock(member_id);
    const lots = await em.find(PointLot, { sourceType: 'referral', sourceId: referral.id, state: { $ne: LotState.CLOSED } }, { orderBy: { member: 'asc' }, refresh: true });
    if (lots.length === 0 || lots.some((l) => l.state !== LotState.PENDING)) return false;
    for (const lot of lots) {
      await run.clawback(
        lot.member.id,
        lot.remaining,
        lot,
        { sourceType: 'referral', sourceId: referral.id, key: `referral-reversal:${lot.id}`, actor: run.actor, note: 'referral: qualifying order returned', at },
        LedgerReason.REFERRAL_REVERSAL,
      );
    }
    Object.assign(referral, { status: ReferralStatus.PENDING, orderId: null, referrerPoints: 0, referredPoints: 0, creditedAt: null });
    run.log.info({ referralId: referral.id, orderId: order.id }, 'referral.reversed');
    return true;
  }

  /**
   * Merge step: the survivor takes over the absorbed member's referrals as referrer; as referred it keeps its own (the
   * absorbed one's waiting referral is voided), and a waiting referral between the two records is a self-referral.
   * A bonus already credited stays.
   */
  async mergeInto(em: EntityManager, survivor: Member, absorbed: Member): Promise<void> {
    const now = new Date();
    const ids = [survivor.id, absorbed.id];
    const rows = await em.find(Referral, { $or: [{ referrer: { $in: ids } }, { referred: { $in: ids } }] });
    for (const r of rows) if (r.referrer.id === absorbed.id) r.referrer = ref(survivor) as never;
    const theirs = rows.find((r) => r.referred.id === absorbed.id);
    const ours = rows.find((r) => r.referred.id === survivor.id);
    if (theirs?.status === ReferralStatus.PENDING) {
      if (ours) Object.assign(theirs, { status: ReferralStatus.VOID, voidReason: ReferralRefusal.MERGED, voidedAt: now });
      else theirs.referred = ref(survivor) as never;
    }
    for (const r of rows) {
      if (r.status === ReferralStatus.PENDING && r.referrer.id === r.referred.id) {
        Object.assign(r, { status: ReferralStatus.VOID, voidReason: ReferralRefusal.SELF_REFERRAL, voidedAt: now });
      }
    }
  }

  referralOf(em: EntityManager, memberId: string): Promise<Referral | null> {
    return em.findOne(Referral, { referred: memberId });
  }

  /** Every referral of the programme, newest first, page by page. */
  async list(em: EntityManager, status: ReferralStatus | null, first: number, after: string | null): Promise<ReferralConnection> {
    checkPageSize(first);
    const rows = await em.find(
      Referral,
      { ...(status ? { status } : {}), ...(after ? { id: { $lt: decodeCursor(after) } } : {}) },
      { orderBy: { id: 'desc' }, limit: first + 1 },
    );
    return pageOf(rows, first, Boolean(after));
  }

  referralsBy(em: EntityManager, memberId: string, first: number): Promise<Referral[]> {
    if (!Number.isInteger(first) || first < 1 || first > 100) throw AppError.badInput([{ path: 'first', message: 'must be between 1 and 100' }]);
    return em.find(Referral, { referrer: memberId }, { orderBy: { id: 'desc' }, limit: first });
  }

  private async attach(em: EntityManager, member: Member, rawCode: string, path: string): Promise<Referral> {
    const code = normaliseReferralCode(rawCode);
    if (!CODE.test(code)) throw AppError.badInput([{ path, message: 'is not a referral code (8 letters and digits)' }]);
    const owner = await em.findOne(Member, { referralCode: code });
    if (!owner) throw AppError.badInput([{ path, message: 'no member has this referral code' }]);
    const referrer = await this.lockReferrer(em, owner.id);
    if (referrer.id === member.id) throw refused(ReferralRefusal.SELF_REFERRAL, 'A member cannot use their own referral code');
    if (referrer.status === MemberStatus.ERASED) throw refused(ReferralRefusal.REFERRER_INACTIVE, 'This referral code is no longer valid');
    if (await this.shareIdentifier(em, referrer.id, member.id)) {
      throw refused(ReferralRefusal.SAME_IDENTIFIER, 'The referrer and the new member share an email address or phone number');
    }
    if (await this.isAbove(em, member.id, referrer.id)) {
      throw refused(ReferralRefusal.CIRCULAR, 'The referrer was referred by this member, directly or down a chain of referrals');
    }
    const referral = em.create(Referral, { referrer: referrer.id, referred: member.id, code, status: ReferralStatus.PENDING });
    await em.flush();
    return referral;
  }

  /** The record holding a referral code now (a merged owner's survivor), read before any lock; null for no owner. */
  private async holderOf(em: EntityManager, rawCode: string): Promise<string | null> {
    const [row] = await em.execute<{ id: string }[]>(`select ${HOLDER} as id from member m where m.referral_code = ?`, [normaliseReferralCode(rawCode)]);
    return row?.id ?? null;
  }

  /**
   * The referrer a code's owner is (a merged record refers through its survivor), with their member lock held and their
   * status read under it: a merge or erasure of the referrer has committed, and is seen here, or waits for this referral
   * and then moves or voids it. Read without the lock, a referral could name a record merged away meanwhile, which
   * every qualifying order of the referred member would then fail on, or an erased member.
   */
  private async lockReferrer(em: EntityManager, ownerId: string): Promise<{ id: string; status: MemberStatus }> {
    let [{ id }] = await em.execute<{ id: string }[]>(`select ${HOLDER} as id from member m where m.id = ?`, [ownerId]);
    for (let hops = 0; ; hops++) {
      await this.ledger.lock(em, id);
      const [row] = await em.execute<{ status: MemberStatus; merged_into_id: string | null }[]>('select status, merged_into_id from member where id = ?', [id]);
      // Merged away while this waited for the lock: the survivor refers.
      if (row.status !== MemberStatus.MERGED || !row.merged_into_id || hops >= MAX_MERGE_HOPS) return { id, status: row.status };
      id = row.merged_into_id;
    }
  }

  /**
   * Whether `memberId` is among the referrers above `referrerId` (the referrer's referrer, theirs, and so on), in one
   * statement: `referrerId` referring `memberId` would then close a cycle, of any length. Merged records are one person,
   * followed both ways (a record's survivor, and the records merged into a survivor, each of which may have been
   * referred). A void referral is no link.
   */
  private async isAbove(em: EntityManager, memberId: string, referrerId: string): Promise<boolean> {
    const [row] = await em.execute<{ found: boolean }[]>(
      `with recursive above(id) as (
         select ?::uuid
         union
         select next.id from above cross join lateral (
           select r.referrer_id as id from referral r where r.referred_id = above.id and r.status <> 'VOID'
           union all select m.merged_into_id from member m where m.id = above.id and m.merged_into_id is not null
           union all select m.id from member m where m.merged_into_id = above.id
         ) next
       )
       select exists (select 1 from above where id = ?) as found`,
      [referrerId, memberId],
    );
    return row.found;
  }

  /** Whether two members share an email (canonically: case, +tags, Gmail dots) or a phone, on any of their records. */
  private async shareIdentifier(em: EntityManager, a: string, b: string): Promise<boolean> {
    // One after another: inside a transaction there is one connection.
    const ma = await this.contactsOf(em, a);
    const mb = await this.contactsOf(em, b);
    return [...ma].some((c) => mb.has(c));
  }

  private async contactsOf(em: EntityManager, memberId: string): Promise<Set<string>> {
    const member = await em.findOneOrFail(Member, memberId);
    const identifiers = await em.find(MemberIdentifier, { member: memberId, type: { $in: [IdentifierType.EMAIL, IdentifierType.PHONE] } });
    const out = new Set<string>();
    for (const email of [member.email, ...identifiers.filter((i) => i.type === IdentifierType.EMAIL).map((i) => i.value)]) {
      if (email) out.add(`email:${canonicalEmail(email)}`);
    }
    for (const phone of [member.phone, ...identifiers.filter((i) => i.type === IdentifierType.PHONE).map((i) => i.value)]) {
      if (phone) out.add(`phone:${phone}`);
    }
    return out;
  }
}

