import { LockMode, raw, ref, UniqueConstraintViolationException, type FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../../base/config';
import type { Context } from '../../base/context';
import type { ChurnBand } from '../models/churn-band';
import type { ValueBand } from '../models/value-band';
import { AppError, conflictOnDuplicate, type FieldProblem } from '../../base/errors';
import { SalesChannelKind } from '../../base/enums';
import { checkPageSize, decodeCursor, pageOf } from '../../base/pagination';
import type { AuditService } from '../audit/audit.service';
import type { EventService } from '../events/event.service';
import { EventType } from '../events/event-types';
import { Permission } from '../auth/permissions';
import { actorRef } from '../auth/principal';
import { SalesChannel } from '../channels/sales-channel.entity';
import { Member, MemberStatus } from './member.entity';
import { GLOBAL_SCOPE, IdentifierType, MemberIdentifier } from './member-identifier.entity';
import { ConsentMedium, MemberConsent } from './member-consent.entity';
import { MemberMerge } from './member-merge.entity';
import { lockLiveMember, lockMembers, onLiveMember, rerunningLockConflicts } from '../ledger/member-lock';
import { memberCardById, memberCardByIdentifier, type OnMemberCard } from './member-card';
import { normaliseChannelCustomerId, normaliseEmail, normalisePhone } from './normalise';
import {
  type ConsentInput,
  type EnrolMemberInput,
  type EraseMemberInput,
  type MemberConnection,
  type MemberFilter,
  MemberOrder,
  type MergeMembersInput,
  type MergeMembersResult,
  type UpdateMemberInput,
} from './member.types';

interface WantedIdentifier {
  type: IdentifierType;
  scope: string;
  value: string;
  path: string;
}

/**
 * Moves another domain's rows from the absorbed member to the survivor inside the merge transaction.
 * Orders and the points ledger register theirs here.
 */
export type MergeStep = (em: EntityManager, survivor: Member, absorbed: Member) => Promise<void>;

/** Runs in the enrolment's transaction once the member is written (referrals register theirs). */
export type EnrolStep = (em: EntityManager, member: Member, input: EnrolMemberInput) => Promise<void>;

/** Removes another domain's personal data of erased member records (the member and records merged into it). */
export type EraseStep = (em: EntityManager, memberIds: string[], erasure: ErasureCause) => Promise<void>;

/** Who erased, and when: what a step writes on the erasure's behalf (a ledger row) names them, as the audit entry does. */
export interface ErasureCause {
  actor: string;
  at: Date;
}

const PROFILE_FIELDS = [
  'firstName',
  'lastName',
  'email',
  'phone',
  'country',
  'birthday',
  'preferredChannel',
  'preferredStoreCode',
] as const;
type ProfileField = (typeof PROFILE_FIELDS)[number];

const PERSONAL_FIELDS = ['firstName', 'lastName', 'email', 'phone', 'birthday', 'preferredStoreCode'] as const;

const MAX_MERGE_HOPS = 5;
const MAX_SEARCH_TOKENS = 5;

export class MemberService {
  private readonly mergeSteps: MergeStep[] = [];
  private readonly eraseSteps: EraseStep[] = [];
  private readonly enrolSteps: EnrolStep[] = [];

  constructor(
    private readonly config: Pick<Config, 'DEFAULT_PHONE_REGION'>,
    private readonly audit: AuditService,
    private readonly events: EventService,
  ) {}

  registerMergeStep(step: MergeStep): void {
    this.mergeSteps.push(step);
  }

  registerEnrolStep(step: EnrolStep): void {
    this.enrolSteps.push(step);
  }

  registerEraseStep(step: EraseStep): void {
    this.eraseSteps.push(step);
  }

  async enrol(ctx: Context, input: EnrolMemberInput): Promise<Member> {
    const scope = await this.customerIdScope(ctx, input);
    const wanted = this.wantedIdentifiers(input, scope);
    if (wanted.length === 0) {
      throw AppError.badInput([{ path: 'input', message: 'give at least one of email, phone or channelCustomerId' }]);
    }
    const profile = this.normalisedProfile(input);

    // A referral code's enrol step takes the referrer's member lock: a deadlock with it runs the enrolment again.
    return this.withIdentifierGuard(() =>
      redrawOnReferralCodeClash(() => rerunningLockConflicts(() => ctx.em.transactional(async (em) => {
        await this.assertIdentifiersFree(em, ctx, wanted, null);
        const member = em.create(Member, {
          ...(profile as Partial<Member>),
          enrolmentChannel: ctx.principal?.kind === 'channel' ? ctx.principal.channelKind : SalesChannelKind.ADMIN,
        });
        for (const id of wanted) em.create(MemberIdentifier, { member, type: id.type, scope: id.scope, value: id.value });
        this.applyConsents(em, member, [], input.consents ?? [], this.sourceOf(ctx));
        await em.flush();
        for (const step of this.enrolSteps) await step(em, member, input);
        this.audit.record(em, ctx, {
          action: 'member.enrol',
          entityType: 'Member',
          entityId: member.id,
          after: { ...snapshot(member), identifiers: wanted.map((w) => w.type), consents: input.consents ?? [] },
        });
        await this.events.record(
          em,
          EventType.MEMBER_ENROLLED,
          { memberId: member.id, enrolmentChannel: member.enrolmentChannel, enrolledAt: member.enrolledAt.toISOString() },
          { memberId: member.id, occurredAt: member.enrolledAt },
        );
        ctx.log.info({ memberId: member.id, channel: member.enrolmentChannel }, 'member.enrolled');
        return member;
      }))),
    );
  }

  /** A stale id of an absorbed member updates the survivor. */
  async update(ctx: Context, input: UpdateMemberInput): Promise<Member> {
    const profile = this.normalisedProfile(input);
    const target = await this.findById(ctx.em, input.id);
    assertActive(target);
    // Under the member lock, like every write on a member (modules/ledger/member-lock.ts): a merge waits for the change
    // and merges the changed record, or the change waits and is made on the survivor; an erasure waits, or refuses it.
    return this.withIdentifierGuard(() => onLiveMember(target.id, (memberId) =>
      ctx.em.transactional(async (em) => {
        await lockLiveMember(em, memberId);
        const member = await em.findOneOrFail(Member, memberId, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
        const before = snapshot(member);
        const identifiers = await em.find(MemberIdentifier, { member });

        for (const [field, type] of [
          ['email', IdentifierType.EMAIL],
          ['phone', IdentifierType.PHONE],
        ] as const) {
          const next = profile[field];
          if (next === undefined || next === member[field]) continue;
          const old = identifiers.find((i) => i.type === type && i.value === member[field]);
          if (old) {
            em.remove(old);
            identifiers.splice(identifiers.indexOf(old), 1);
          }
          if (next !== null && !identifiers.some((i) => i.type === type && i.value === next)) {
            await this.assertIdentifiersFree(em, ctx, [{ type, scope: GLOBAL_SCOPE, value: next, path: `input.${field}` }], member.id);
            identifiers.push(em.create(MemberIdentifier, { member, type, scope: GLOBAL_SCOPE, value: next }));
          }
        }
        if (identifiers.length === 0) {
          throw AppError.badInput([{ path: 'input', message: 'a member must keep at least one identifier' }]);
        }

        for (const field of PROFILE_FIELDS) {
          const value = profile[field];
          if (value !== undefined) (member as unknown as Record<ProfileField, unknown>)[field] = value;
        }
        const consents = await em.find(MemberConsent, { member });
        this.applyConsents(em, member, consents, input.consents ?? [], this.sourceOf(ctx));
        await em.flush();
        this.audit.record(em, ctx, {
          action: 'member.update',
          entityType: 'Member',
          entityId: member.id,
          before,
          after: { ...snapshot(member), ...(input.consents ? { consents: input.consents } : {}) },
        });
        return member;
      }),
    ));
  }

  /** Returns the member, following a merge to the survivor. */
  /**
   * The live member a caller's reference names (by id, or by an identifier): a merged record's survivor; NOT_FOUND when
   * there is none, CONFLICT/MEMBER_ERASED for an erased one. Orders and plugins' member events name members this way.
   */
  async resolveRef(ctx: Context, ref: { id?: string | null; identifierType?: IdentifierType | string | null; identifierValue?: string | null }): Promise<Member> {
    let member: Member | null;
    if (ref.id) member = await this.findById(ctx.em, ref.id);
    else if (ref.identifierType && ref.identifierValue) member = await this.findByIdentifier(ctx, ref.identifierType as IdentifierType, ref.identifierValue);
    else throw AppError.badInput([{ path: 'input.member', message: 'give id, or identifierType and identifierValue' }]);
    if (!member) throw AppError.notFound('Member');
    if (member.status === MemberStatus.ERASED) throw AppError.conflict('MEMBER_ERASED', 'This member has been erased', { memberId: member.id });
    return member;
  }

  async findById(em: EntityManager, id: string): Promise<Member> {
    let member = await em.findOne(Member, id);
    for (let hop = 0; member?.status === MemberStatus.MERGED && member.mergedInto && hop < MAX_MERGE_HOPS; hop++) {
      member = await em.findOne(Member, member.mergedInto.id);
    }
    if (!member) throw AppError.notFound('Member', id);
    return member;
  }

  /**
   * For queries: the member with their balance and tier handed to `onCard` (member-card.ts), following a merge to the
   * survivor.
   */
  async read(ctx: Context, id: string, onCard?: OnMemberCard): Promise<Member> {
    const member = await memberCardById(ctx, id, 'record', onCard);
    if (member?.status === MemberStatus.MERGED && member.mergedInto) return this.findById(ctx.em, member.mergedInto.id);
    if (!member) throw AppError.notFound('Member', id);
    return member;
  }

  /**
   * The member holding an identifier, following a merge. Queries pass `onCard` and get a `MemberRecord` (member-card.ts);
   * without it (resolveRef: orders and member events go on to write with the member) the member is an entity.
   */
  async findByIdentifier(
    ctx: Context,
    type: IdentifierType,
    rawValue: string,
    channelId?: string | null,
    onCard?: OnMemberCard,
  ): Promise<Member | null> {
    let value: string | null;
    let scope = GLOBAL_SCOPE;
    if (type === IdentifierType.EMAIL) value = normaliseEmail(rawValue);
    else if (type === IdentifierType.PHONE) value = normalisePhone(rawValue, this.config.DEFAULT_PHONE_REGION);
    else {
      value = normaliseChannelCustomerId(rawValue);
      scope = await this.customerIdScope(ctx, { channelId, channelCustomerId: value }, 'channelId');
    }
    if (!value) return null;
    const member = await memberCardByIdentifier(ctx, type, scope, value, onCard ? 'record' : 'entity', onCard);
    if (member?.status === MemberStatus.MERGED && member.mergedInto) return this.findById(ctx.em, member.mergedInto.id);
    return member;
  }

  async search(ctx: Context, filter: MemberFilter): Promise<MemberConnection> {
    checkPageSize(filter.first);
    if (filter.search && !ctx.principal?.permissions.has(Permission.MEMBERS_PII)) {
      // Searching by name, email or phone would reveal personal data to a caller not allowed to read it.
      throw AppError.forbidden('Searching by name, email or phone requires members:pii');
    }
    const where: FilterQuery<Member> & { $and: FilterQuery<Member>[] } = { $and: [] };
    where.$and.push({ status: filter.status ?? MemberStatus.ACTIVE });
    if (filter.country) where.$and.push({ country: filter.country.toUpperCase() });
    const matchesWord = (token: string): FilterQuery<Member> => {
      const like = `%${escapeLike(token)}%`;
      const digits = token.replace(/[^\d]/g, '');
      return {
        $or: [
          { firstName: { $ilike: like } },
          { lastName: { $ilike: like } },
          { email: { $ilike: like } },
          ...(digits.length >= 4 ? [{ phone: { $like: `%${digits}%` } }] : []),
        ],
      };
    };
    const everyWord = searchTokens(filter.search).map(matchesWord);
    // Phones are stored in E.164, so a number typed as a caller reads it out ("07911 123666") matches no digits of
    // "+447911123666" word by word: a search holding one whole valid number also finds that number, with its other
    // words matched as usual ("Noah 07911 123666" is Noah with that number).
    const typed = filter.search ? phoneIn(filter.search, this.config.DEFAULT_PHONE_REGION) : null;
    if (typed) where.$and.push({ $or: [{ $and: [{ phone: typed.phone }, ...typed.otherWords.map(matchesWord)] }, { $and: everyWord }] });
    else where.$and.push(...everyWord);
    const countWhere = { $and: [...where.$and] };
    // A raw fragment can be used in one query only, so each query gets its own.
    if (filter.churnBand) {
      where.$and.push(inActiveModelBand('member_churn_score', 'CHURN', filter.churnBand));
      countWhere.$and.push(inActiveModelBand('member_churn_score', 'CHURN', filter.churnBand));
    }
    if (filter.valueBand) {
      where.$and.push(inActiveModelBand('member_value_score', 'VALUE', filter.valueBand));
      countWhere.$and.push(inActiveModelBand('member_value_score', 'VALUE', filter.valueBand));
    }
    const descending = filter.orderBy === MemberOrder.NEWEST_FIRST;
    if (filter.after) {
      const afterId = decodeCursor(filter.after);
      where.$and.push({ id: descending ? { $lt: afterId } : { $gt: afterId } });
    }
    const rows = await ctx.em.find(Member, where, {
      orderBy: { id: descending ? 'desc' : 'asc' },
      limit: filter.first + 1,
    });
    const em = ctx.em;
    return { ...pageOf(rows, filter.first, Boolean(filter.after)), countTotal: () => em.count(Member, countWhere) };
  }

  /** One transaction: identifiers, consents, profile gaps and other domains' rows move to the survivor. */
  async merge(ctx: Context, input: MergeMembersInput): Promise<MergeMembersResult> {
    if (input.survivorId === input.absorbedId) {
      throw AppError.conflict('SAME_MEMBER', 'A member cannot be merged into itself');
    }
    return rerunningLockConflicts(() => ctx.em.transactional(async (em) => {
      // Both members' locks first, in id order (the global lock order: modules/ledger/member-lock.ts): the merge waits for
      // every points write in flight on either record, and writes arriving later wait for it, then go to the survivor.
      // The member rows are read, not locked for update: the balance locks serialise the merge with every other writer.
      await lockMembers(em, [input.survivorId, input.absorbedId]);
      const locked = await em.find(Member, { id: { $in: [input.survivorId, input.absorbedId] } }, { refresh: true });
      const survivor = locked.find((m) => m.id === input.survivorId);
      const absorbed = locked.find((m) => m.id === input.absorbedId);
      if (!survivor) throw AppError.notFound('Member', input.survivorId);
      if (!absorbed) throw AppError.notFound('Member', input.absorbedId);
      for (const m of [survivor, absorbed]) assertActive(m);

      const before = { survivor: snapshot(survivor), absorbed: snapshot(absorbed) };
      const movedIdentifiers = await em.nativeUpdate(MemberIdentifier, { member: absorbed.id }, { member: survivor.id });

      const survivorConsents = await em.find(MemberConsent, { member: survivor });
      const absorbedConsents = await em.find(MemberConsent, { member: absorbed });
      for (const theirs of absorbedConsents) {
        const ours = survivorConsents.find((c) => c.medium === theirs.medium);
        if (!ours) {
          em.create(MemberConsent, {
            member: survivor,
            medium: theirs.medium,
            isGranted: theirs.isGranted,
            grantedAt: theirs.grantedAt,
            withdrawnAt: theirs.withdrawnAt,
            source: theirs.source,
          });
        } else if (decidedAt(theirs) > decidedAt(ours)) {
          // The person's latest decision wins, whichever record it was given on.
          ours.isGranted = theirs.isGranted;
          ours.grantedAt = theirs.grantedAt;
          ours.withdrawnAt = theirs.withdrawnAt;
          ours.source = theirs.source;
        }
        em.remove(theirs);
      }

      for (const field of PROFILE_FIELDS) {
        const target = survivor as unknown as Record<ProfileField, unknown>;
        if (target[field] === null) target[field] = (absorbed as unknown as Record<ProfileField, unknown>)[field];
      }
      if (absorbed.enrolledAt < survivor.enrolledAt) survivor.enrolledAt = absorbed.enrolledAt;

      for (const step of this.mergeSteps) await step(em, survivor, absorbed);

      for (const field of PERSONAL_FIELDS) (absorbed as unknown as Record<string, unknown>)[field] = null;
      absorbed.status = MemberStatus.MERGED;
      absorbed.mergedInto = ref(survivor);
      absorbed.mergedAt = new Date();
      await em.flush();
      // Earlier merges into the absorbed record now point straight at the survivor: one hop to resolve.
      await em.nativeUpdate(Member, { mergedInto: absorbed.id }, { mergedInto: survivor.id });

      em.create(MemberMerge, {
        survivor,
        absorbed,
        reason: input.reason ?? null,
        mergedBy: actorRef(ctx.principal),
        movedIdentifiers,
      });
      this.audit.record(em, ctx, {
        action: 'member.merge',
        entityType: 'Member',
        entityId: survivor.id,
        before,
        after: { survivor: snapshot(survivor), absorbedId: absorbed.id, movedIdentifiers, reason: input.reason ?? null },
      });
      await this.events.record(em, EventType.MEMBER_MERGED, { survivorId: survivor.id, absorbedId: absorbed.id, movedIdentifiers }, {
        memberId: survivor.id,
        occurredAt: absorbed.mergedAt,
      });
      ctx.log.info({ survivorId: survivor.id, absorbedId: absorbed.id, movedIdentifiers }, 'member.merged');
      return { survivor, movedIdentifiers };
    }));
  }

  /**
   * GDPR erasure: personal data is removed from the member, its identifiers and earlier audit rows; ids, country
   * and every financial row stay, so analytics remain consistent. The erase steps run in its transaction (the ledger's
   * closes the points account, forfeiting what it holds). Erasing twice is a no-op.
   */
  async erase(ctx: Context, input: EraseMemberInput): Promise<Member> {
    return rerunningLockConflicts(() => ctx.em.transactional(async (em) => {
      // The member lock first (modules/ledger/member-lock.ts): points writes in flight finish before the erasure, later ones
      // find the member erased.
      await lockMembers(em, [input.id]);
      const member = await em.findOne(Member, input.id, { refresh: true });
      if (!member) throw AppError.notFound('Member', input.id);
      if (member.status === MemberStatus.ERASED) return member;
      if (member.status === MemberStatus.MERGED) {
        throw AppError.conflict('MEMBER_MERGED', 'This record was merged; erase the surviving member', {
          survivorId: member.mergedInto?.id,
        });
      }
      // The records merged into it next, before any other row lock (the global lock order): an erase step closes their
      // points accounts too.
      const absorbed = await em.find(Member, { mergedInto: member.id }, { fields: ['id'] });
      await lockMembers(em, absorbed.map((m) => m.id));
      const now = new Date();
      const erasedFields = PERSONAL_FIELDS.filter((f) => member[f] !== null);
      for (const field of PERSONAL_FIELDS) (member as unknown as Record<string, unknown>)[field] = null;
      member.status = MemberStatus.ERASED;
      member.erasedAt = now;
      const removedIdentifiers = await em.nativeDelete(MemberIdentifier, { member: member.id });
      for (const consent of await em.find(MemberConsent, { member })) consent.record(false, now, 'ERASURE');

      for (const id of [member.id, ...absorbed.map((m) => m.id)]) await this.audit.redactEntity(em, 'Member', id);
      const cause: ErasureCause = { actor: actorRef(ctx.principal), at: now };
      for (const step of this.eraseSteps) await step(em, [member.id, ...absorbed.map((m) => m.id)], cause);
      await em.nativeUpdate(MemberMerge, { survivor: member.id }, { reason: null });
      await em.flush();
      this.audit.record(em, ctx, {
        action: 'member.erase',
        entityType: 'Member',
        entityId: member.id,
        after: { erasedFields, removedIdentifiers, reason: input.reason },
      });
      await this.events.record(em, EventType.MEMBER_ERASED, { memberId: member.id, erasedAt: now.toISOString() }, { memberId: member.id, occurredAt: now });
      ctx.log.info({ memberId: member.id }, 'member.erased');
      return member;
    }));
  }

  /** The sales channel whose customer-id namespace applies to this caller. */
  private async customerIdScope(
    ctx: Context,
    input: { channelId?: string | null; channelCustomerId?: string | null },
    path = 'input.channelId',
  ): Promise<string> {
    const principal = ctx.principal;
    if (principal?.kind === 'channel') {
      if (input.channelId && input.channelId !== principal.channelId) {
        throw AppError.badInput([{ path, message: "a channel can only use its own channel's customer ids" }]);
      }
      return principal.channelId;
    }
    if (!input.channelCustomerId) return GLOBAL_SCOPE;
    if (!input.channelId) throw AppError.badInput([{ path, message: 'is required with a channel customer id' }]);
    const channel = await ctx.em.findOne(SalesChannel, input.channelId);
    if (!channel) throw AppError.notFound('SalesChannel', input.channelId);
    return channel.id;
  }

  private wantedIdentifiers(input: EnrolMemberInput, scope: string): WantedIdentifier[] {
    const out: WantedIdentifier[] = [];
    const profile = this.normalisedProfile(input);
    if (profile.email) out.push({ type: IdentifierType.EMAIL, scope: GLOBAL_SCOPE, value: profile.email, path: 'input.email' });
    if (profile.phone) out.push({ type: IdentifierType.PHONE, scope: GLOBAL_SCOPE, value: profile.phone, path: 'input.phone' });
    if (input.channelCustomerId) {
      out.push({
        type: IdentifierType.CHANNEL_CUSTOMER_ID,
        scope,
        value: normaliseChannelCustomerId(input.channelCustomerId),
        path: 'input.channelCustomerId',
      });
    }
    return out;
  }

  private async assertIdentifiersFree(em: EntityManager, ctx: Context, wanted: WantedIdentifier[], ownerId: string | null) {
    const taken = await em.find(MemberIdentifier, { $or: wanted.map(({ type, scope, value }) => ({ type, scope, value })) });
    const clash = taken.find((t) => t.member.id !== ownerId);
    if (!clash) return;
    const field = wanted.find((w) => w.type === clash.type && w.value === clash.value)?.path;
    // Only callers who may read members learn which member holds it.
    const canRead = ctx.principal?.permissions.has(Permission.MEMBERS_READ) ?? false;
    throw AppError.conflict('IDENTIFIER_TAKEN', `This ${clash.type.toLowerCase().replace(/_/g, ' ')} belongs to another member`, {
      field,
      identifierType: clash.type,
      ...(canRead ? { memberId: clash.member.id } : {}),
    });
  }

  /** The unique index is the real guard against two concurrent enrolments with one identifier. */
  private withIdentifierGuard<T>(work: () => Promise<T>): Promise<T> {
    return conflictOnDuplicate(work, () => AppError.conflict('IDENTIFIER_TAKEN', 'An identifier belongs to another member'));
  }

  private normalisedProfile(input: Partial<Record<ProfileField, string | null>>): Partial<Record<ProfileField, string | null>> {
    const problems: FieldProblem[] = [];
    const out: Partial<Record<ProfileField, string | null>> = {};
    for (const field of PROFILE_FIELDS) {
      const raw = input[field];
      if (raw === undefined) continue;
      if (raw === null) {
        out[field] = null;
        continue;
      }
      switch (field) {
        case 'email':
          out.email = normaliseEmail(raw);
          break;
        case 'phone': {
          const phone = normalisePhone(raw, this.config.DEFAULT_PHONE_REGION);
          if (!phone) problems.push({ path: 'input.phone', message: 'is not a valid phone number' });
          out.phone = phone;
          break;
        }
        case 'country':
          out.country = raw.toUpperCase();
          break;
        case 'birthday': {
          const year = Number(raw.slice(0, 4));
          if (year < 1900 || new Date(`${raw}T00:00:00Z`) > new Date()) {
            problems.push({ path: 'input.birthday', message: 'must be a past date after 1900' });
          }
          out.birthday = raw;
          break;
        }
        default:
          out[field] = typeof raw === 'string' && field !== 'preferredChannel' ? raw.trim() : raw;
      }
    }
    if (problems.length) throw AppError.badInput(problems);
    return out;
  }

  private applyConsents(em: EntityManager, member: Member, current: MemberConsent[], wanted: ConsentInput[], source: string) {
    const seen = new Set<ConsentMedium>();
    const now = new Date();
    for (const { medium, isGranted } of wanted) {
      if (seen.has(medium)) throw AppError.badInput([{ path: 'input.consents', message: `${medium} is given twice` }]);
      seen.add(medium);
      const existing = current.find((c) => c.medium === medium);
      if (existing) existing.record(isGranted, now, source);
      else {
        em.create(MemberConsent, {
          member,
          medium,
          isGranted,
          grantedAt: isGranted ? now : null,
          withdrawnAt: isGranted ? null : now,
          source,
        });
      }
    }
  }

  private sourceOf(ctx: Context): string {
    return ctx.principal?.kind === 'channel' ? ctx.principal.channelKind : 'ADMIN';
  }
}

function assertActive(member: Member): void {
  if (member.status === MemberStatus.ERASED) throw AppError.conflict('MEMBER_ERASED', 'This member has been erased', { memberId: member.id });
  if (member.status === MemberStatus.MERGED) {
    throw AppError.conflict('MEMBER_MERGED', 'This member was merged into another', {
      memberId: member.id,
      survivorId: member.mergedInto?.id,
    });
  }
}

function decidedAt(c: MemberConsent): number {
  return Math.max(c.grantedAt?.getTime() ?? 0, c.withdrawnAt?.getTime() ?? 0);
}

function snapshot(m: Member): Record<string, unknown> {
  return Object.fromEntries([...PROFILE_FIELDS, 'status'].map((f) => [f, (m as unknown as Record<string, unknown>)[f]]));
}

/** Scores of the kind's active model only; a member it never scored matches no band. */
function inActiveModelBand(table: 'member_churn_score' | 'member_value_score', kind: 'CHURN' | 'VALUE', band: ChurnBand | ValueBand): FilterQuery<Member> {
  const scored = raw(
    (alias) => `exists (select 1 from ${table} c join model_version v on v.id = c.model_version_id and v.kind = '${kind}' and v.status = 'ACTIVE' where c.member_id = ${alias}.id and c.band = ?)`,
    [band],
  );
  return { [scored]: true } as FilterQuery<Member>;
}

/** A stretch written with phone characters alone, from its first digit (or +) to its last digit. */
const PHONE_RUN = /\+?\d[\d\s().\-/]*\d/g;

/**
 * The one phone number a search holds, in E.164, and the search's other words; null when it holds none, or more than
 * one stretch of six or more digits. libphonenumber would find a number anywhere in a text, so it is given only the
 * stretch of phone characters, and the words around it must still match.
 */
function phoneIn(search: string, region: string): { phone: string; otherWords: string[] } | null {
  const runs = [...search.matchAll(PHONE_RUN)].filter((m) => m[0].replace(/\D/g, '').length >= 6);
  if (runs.length !== 1) return null;
  const [run] = runs;
  const phone = normalisePhone(run[0], region);
  if (!phone) return null;
  const start = run.index ?? 0;
  // What is left around the number: a bracket or a + that belonged to it ("(07911) 123666") is not a word.
  const otherWords = searchTokens(`${search.slice(0, start)} ${search.slice(start + run[0].length)}`).filter((w) => /[\p{L}\p{N}]/u.test(w));
  return { phone, otherWords };
}

function searchTokens(search: string | null | undefined): string[] {
  return (search ?? '').trim().split(/\s+/).filter(Boolean).slice(0, MAX_SEARCH_TOKENS);
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * `referral_code_new()` skips codes already committed, but two enrolments in flight can draw the same one; the unique
 * index refuses the second. Its transaction wrote nothing, so it runs again and draws another code (31^8, about 8.5 × 10^11
 * codes, make a second clash in a row unheard of; three attempts are allowed).
 */
async function redrawOnReferralCodeClash<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      const isClash = err instanceof UniqueConstraintViolationException && (err as { constraint?: string }).constraint === 'member_referral_code_unique';
      if (!isClash || attempt >= attempts) throw err;
    }
  }
}
