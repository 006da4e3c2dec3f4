import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../../base/context';
import { Tier } from '../tiers/tier.entity';
import { Member, MemberStatus } from './member.entity';
import { IdentifierType } from './member-identifier.entity';
import type { MemberPoints } from '../ledger/points.types';

/**
 * A member with their balance, next expiry and tier in one statement: what a till or storefront asks for on every
 * visit (`member(id) { points tier }`), so one round trip instead of a member lookup followed by four loader queries.
 * The balance and tier are handed to `onCard` (the resolver primes the request's loaders with them: member.resolver.ts); fields nobody asked for cost a few index probes.
 * The answers equal those of `PointsService.pointsOf` and `TierService.currentOf` (test/api/member-card.test.ts); the
 * bigint balances and the sum of lots are read as doubles, as there (exact within MAX_MEMBER_POINTS).
 */
export const MEMBER_CARD_SQL = (where: string) => `
  select m.*,
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
  tier: Tier | null;
}

/** Receives the card read with the member; without one, the balance and tier are read and dropped. */
export type OnMemberCard = (card: MemberCard) => void;

function hydrate(em: EntityManager, row: CardRow, onCard?: OnMemberCard): Member {
  const { card_available, card_pending, card_lifetime, card_expires_at, card_expiring_points, card_tier, ...memberRow } = row;
  const member = em.map(Member, memberRow);
  onCard?.({
    memberId: member.id,
    points: {
      available: card_available ?? 0,
      pending: card_pending ?? 0,
      lifetime: card_lifetime ?? 0,
      nextExpiry: card_expires_at ? { points: card_expiring_points ?? 0, expiresAt: new Date(card_expires_at) } : null,
    },
    tier: card_tier ? em.map(Tier, card_tier) : null,
  });
  return member;
}

/** The member by id with their card, or null; a MERGED record is returned as is (the caller follows it). */
export async function memberCardById(ctx: Context, id: string, onCard?: OnMemberCard): Promise<Member | null> {
  const [row] = await ctx.em.execute<CardRow[]>(MEMBER_CARD_SQL(CARD_BY_ID), [id]);
  return memberOf(ctx, row, onCard);
}

/** The member holding a normalised identifier, with their card. */
export async function memberCardByIdentifier(
  ctx: Context,
  type: IdentifierType,
  scope: string,
  value: string,
  onCard?: OnMemberCard,
): Promise<Member | null> {
  const [row] = await ctx.em.execute<CardRow[]>(
    MEMBER_CARD_SQL(CARD_BY_IDENTIFIER),
    [type, scope, value],
  );
  return memberOf(ctx, row, onCard);
}

/** A MERGED record is returned without its card: the caller follows it to the survivor and reads that one's. */
function memberOf(ctx: Context, row: CardRow | undefined, onCard?: OnMemberCard): Member | null {
  if (!row) return null;
  return row.status === MemberStatus.MERGED ? ctx.em.map(Member, stripCard(row)) : hydrate(ctx.em, row, onCard);
}

function stripCard(row: CardRow): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).filter(([k]) => !k.startsWith('card_')));
}
