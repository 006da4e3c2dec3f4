import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../../base/context';
import { runPrepared } from '../../base/prepared';
import { Tier, type TierFields } from '../tiers/tier.entity';
import { Member, MemberStatus } from './member.entity';
import { IdentifierType } from './member-identifier.entity';
import type { MemberPoints } from '../ledger/points.types';

/**
 * The member table's columns, named rather than `m.*`: the card is a prepared statement, and PostgreSQL refuses to run
 * one whose result columns changed since it was prepared ("cached plan must not change result type"). With `m.*`, a
 * migration adding a column to member would break every running process's lookups until its connections closed.
 * test/api/member-card.test.ts checks the list against the table.
 */
export const MEMBER_COLUMNS = [
  'id', 'status', 'first_name', 'last_name', 'email', 'phone', 'country', 'birthday', 'preferred_channel',
  'preferred_store_code', 'enrolment_channel', 'enrolled_at', 'updated_at', 'merged_into_id', 'merged_at', 'erased_at',
  'referral_code',
] as const;

/**
 * A member with their balance, next expiry and tier in one statement: what a till or storefront asks for on every
 * visit (`member(id) { points tier }`), so one round trip instead of a member lookup followed by four loader queries.
 * The balance and tier are handed to `onCard` (the resolver primes the request's loaders with them: member.resolver.ts); fields nobody asked for cost a few index probes.
 * The answers equal those of `PointsService.pointsOf` and `TierService.currentOf` (test/api/member-card.test.ts); the
 * bigint balances and the sum of lots are read as doubles, as there (exact within MAX_MEMBER_POINTS).
 */
export const MEMBER_CARD_SQL = (where: string) => `
  select ${MEMBER_COLUMNS.map((c) => `m.${c}`).join(', ')},
    b.available::float8 as card_available, b.pending::float8 as card_pending, b.lifetime::float8 as card_lifetime,
    e.expires_at as card_expires_at, e.points as card_expiring_points,
    to_jsonb(t) as card_tier
  from member m
  left join member_balance b on b.member_id = m.id
  left join lateral (
    select min(l.expires_at) as expires_at, sum(l.remaining)::float8 as points
    from point_lot l
    where l.member_id = m.id and l.state in ('AVAILABLE', 'PENDING') and l.remaining > 0
    group by l.expires_at::date order by l.expires_at::date limit 1
  ) e on true
  left join member_tier mt on mt.member_id = m.id
  left join lateral (
    select * from tier
    where case when mt.tier_id is not null then id = mt.tier_id else threshold = 0 end
    limit 1
  ) t on true
  where ${where}`;

export const CARD_BY_ID = 'm.id = ?';
export const CARD_BY_IDENTIFIER = 'm.id = (select member_id from member_identifier where type = ? and scope = ? and value = ?)';
// Prepared once per connection (runPrepared): the card is read on nearly every till and storefront request.
export const CARD_BY_ID_SQL = MEMBER_CARD_SQL(CARD_BY_ID);
export const CARD_BY_IDENTIFIER_SQL = MEMBER_CARD_SQL(CARD_BY_IDENTIFIER);

type CardRow = Record<string, unknown> & {
  status: MemberStatus;
  card_available: number | null;
  card_pending: number | null;
  card_lifetime: number | null;
  card_expires_at: Date | null;
  card_expiring_points: number | null;
  card_tier: Record<string, unknown> | null;
};

/** The balance and tier read with a member. */
export interface MemberCard {
  memberId: string;
  points: MemberPoints;
  tier: TierFields | null;
}

/** Receives the card read with the member; without one, the balance and tier are read and dropped. */
export type OnMemberCard = (card: MemberCard) => void;

/**
 * How the card's member is returned: `entity` maps it into the request's entity manager (for callers that go on to
 * write with it: orders name their member by an identifier); `record` answers queries without the unit of work.
 */
export type CardMode = 'entity' | 'record';

const ROW = Symbol('member row');
const EM = Symbol('entity manager');
const ENTITY = Symbol('entity');
type Record_ = Member & { [ROW]: Record<string, unknown>; [EM]: EntityManager; [ENTITY]?: Member };

/** The entity a record stands for, mapped into the request's entity manager the first time a relation is read. */
const entityOf = (record: Record_): Member => (record[ENTITY] ??= record[EM].map(Member, record[ROW]));

let recordPrototype: object | undefined;

/**
 * The prototype of members read by queries (`record` mode): a Member (type-graphql hands a field resolver's root over
 * as is only when it is an instance of the type; anything else is copied into a `new Member()` per resolver) whose
 * MikroORM accessors are shadowed. MikroORM defines an accessor per property on the entity's prototype, and the first
 * write of each on an instance defines one on the instance: with the change-tracking snapshot, that made em.map a tenth of a
 * member lookup's CPU. Here every column property is a plain data property instead, and the relations, which the row
 * does not hold, are read from the entity mapped on first use, so `identifiers`, `consents` and `mergedInto` behave as
 * on a loaded member.
 */
function memberRecordPrototype(em: EntityManager): object {
  if (recordPrototype) return recordPrototype;
  const relations: PropertyDescriptorMap = {
    identifiers: { get(this: Record_) { return entityOf(this).identifiers; } },
    consents: { get(this: Record_) { return entityOf(this).consents; } },
    mergedInto: { get(this: Record_) { return this[ROW].merged_into_id == null ? null : entityOf(this).mergedInto; } },
  };
  const columns: PropertyDescriptorMap = {};
  for (const prop of em.getMetadata().get(Member.name).props) {
    if (!(prop.name in relations)) columns[prop.name] = { value: undefined, writable: true, enumerable: true, configurable: true };
  }
  return (recordPrototype = Object.create(Member.prototype, { ...columns, ...relations }));
}

/**
 * A member read by a query, from the columns of its card row mapped the way MikroORM maps them (names, parsed dates),
 * without the unit of work: nothing is written with it in a query. Orders and member events, which write, map theirs.
 */
function memberRecord(em: EntityManager, row: Record<string, unknown>): Member {
  const { mergedInto: _relation, ...fields } = fieldsOf(em, Member, row);
  const record = Object.assign(Object.create(memberRecordPrototype(em)) as Record_, fields);
  record[ROW] = row;
  record[EM] = em;
  return record;
}

/** The row's columns under their properties' names, converted as MikroORM's hydration does (dates parsed). */
function fieldsOf<T extends object>(em: EntityManager, entity: new () => T, row: Record<string, unknown>): Record<string, unknown> {
  return em.getComparator().mapResult(entity.name, row) as Record<string, unknown>;
}

function hydrate(em: EntityManager, row: CardRow, mode: CardMode, onCard?: OnMemberCard): Member {
  const { card_available, card_pending, card_lifetime, card_expires_at, card_expiring_points, card_tier, ...memberRow } = row;
  const member = mode === 'entity' ? em.map(Member, memberRow) : memberRecord(em, memberRow);
  onCard?.({
    memberId: member.id,
    points: {
      available: card_available ?? 0,
      pending: card_pending ?? 0,
      lifetime: card_lifetime ?? 0,
      nextExpiry: card_expires_at ? { points: card_expiring_points ?? 0, expiresAt: new Date(card_expires_at) } : null,
    },
    // Only answered, never compared or written: its fields do.
    tier: card_tier ? (fieldsOf(em, Tier, card_tier) as unknown as TierFields) : null,
  });
  return member;
}

/** The member by id with their card, or null; a MERGED record is returned as is (the caller follows it). */
export async function memberCardById(ctx: Context, id: string, mode: CardMode, onCard?: OnMemberCard): Promise<Member | null> {
  const [row] = await runPrepared<CardRow>(ctx.em, CARD_BY_ID_SQL, [id]);
  return memberOf(ctx, row, mode, onCard);
}

/** The member holding a normalised identifier, with their card. */
export async function memberCardByIdentifier(
  ctx: Context,
  type: IdentifierType,
  scope: string,
  value: string,
  mode: CardMode,
  onCard?: OnMemberCard,
): Promise<Member | null> {
  const [row] = await runPrepared<CardRow>(ctx.em, CARD_BY_IDENTIFIER_SQL, [type, scope, value]);
  return memberOf(ctx, row, mode, onCard);
}

/** A MERGED record is returned without its card: the caller follows it to the survivor and reads that one's. */
function memberOf(ctx: Context, row: CardRow | undefined, mode: CardMode, onCard?: OnMemberCard): Member | null {
  if (!row) return null;
  return row.status === MemberStatus.MERGED ? ctx.em.map(Member, stripCard(row)) : hydrate(ctx.em, row, mode, onCard);
}

function stripCard(row: CardRow): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).filter(([k]) => !k.startsWith('card_')));
}
