import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { IsInt, IsUUID, Length, Max, Min, NotEquals } from 'class-validator';
import { LedgerEntry } from './ledger-entry.entity';
import { MAX_POINTS_PER_ADJUSTMENT, grouped } from '../../base/bounds';
import { connectionOf } from '../../base/pagination';

@ObjectType()
export class PointsExpiry {
  @Field(() => Float, { description: 'A whole number; Float as points add up past 2^31 (docs/reference/input-bounds.md).' })
  points: number;

  @Field(() => DateTimeISOResolver)
  expiresAt: Date;
}

@ObjectType({ description: "A member's points. Every figure is a sum of the ledger: a whole number, Float as it can pass 2^31 (docs/reference/input-bounds.md)." })
export class MemberPoints {
  @Field(() => Float, { description: 'Spendable now. Negative when returns took back points already spent.' })
  available: number;

  @Field(() => Float, { description: 'Earned but inside the return window.' })
  pending: number;

  @Field(() => Float, { description: 'Earned from orders and goodwill, net of returns.' })
  lifetime: number;

  @Field(() => PointsExpiry, { nullable: true, description: 'The next points to expire: the amount expiring on the earliest date.' })
  nextExpiry: PointsExpiry | null;
}

@InputType()
export class AdjustPointsInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'must be an id' })
  memberId: string;

  @Field(() => Int, {
    description: `Positive adds points (available at once), negative removes available points: −${grouped(MAX_POINTS_PER_ADJUSTMENT)} to ${grouped(MAX_POINTS_PER_ADJUSTMENT)}, not 0.`,
  })
  @IsInt()
  @NotEquals(0, { message: 'must not be zero' })
  @Min(-MAX_POINTS_PER_ADJUSTMENT)
  @Max(MAX_POINTS_PER_ADJUSTMENT)
  points: number;

  @Field(() => String, { description: 'Shown to support and in the ledger.' })
  @Length(3, 500)
  reason: string;

  @Field(() => String, { description: 'Retrying with the same key does not adjust twice.' })
  @Length(1, 100)
  idempotencyKey: string;
}

@ObjectType()
export class LedgerConnection extends connectionOf(LedgerEntry, 'Ledger') {}

@ObjectType({ description: 'A member whose cached balance or lots disagree with the ledger (points: whole numbers, Float as they can pass 2^31).' })
export class LedgerMismatchReport {
  @Field(() => ID)
  memberId: string;

  @Field(() => Float, { nullable: true })
  balanceAvailable: number | null;

  @Field(() => Float)
  ledgerAvailable: number;

  @Field(() => Float, { nullable: true })
  balancePending: number | null;

  @Field(() => Float)
  ledgerPending: number;

  @Field(() => Float, { nullable: true })
  balanceLifetime: number | null;

  @Field(() => Float)
  ledgerLifetime: number;

  @Field(() => Float)
  lotsAvailable: number;

  @Field(() => Float)
  lotsPending: number;
}

@ObjectType({ description: 'A member whose per-member aggregate row (what segments and analytics read) differs from a recomputation from the rows it derives from.' })
export class AggregateMismatchReport {
  @Field(() => String, {
    description:
      'The aggregate table: member_order_history, member_channel_order_history, member_points_history, member_order_stats, member_channel_order_stats, order_day_totals or points_hour_totals.',
  })
  aggregate: string;

  @Field(() => ID, { nullable: true, description: 'The member; null for order_day_totals and points_hour_totals rows, which are not per member.' })
  memberId: string | null;

  @Field(() => ID, { nullable: true, description: 'The sales channel of a per-channel or order_day_totals row; null otherwise.' })
  channelId: string | null;

  @Field(() => String, { nullable: true, description: 'The order_day_totals row (day, country, shard) or points_hour_totals row (hour, shard); null for per-member rows.' })
  key?: string | null;

  @Field(() => String, { description: 'missing (orders but no row), extra (a row without such orders) or differs.' })
  problem: string;
}

@ObjectType({ description: 'A merged-away record that still holds something: every such row is a write that missed the survivor.' })
export class MergedAwayHoldingReport {
  @Field(() => ID)
  memberId: string;

  @Field(() => Int, { description: 'Orders still on the merged-away record (a merge moves them all).' })
  orders: number;

  @Field(() => Int, { description: 'Pending or available point lots still on it.' })
  liveLots: number;

  @Field(() => Int, { description: 'Redemptions still on it.' })
  redemptions: number;

  @Field(() => Int, { description: 'Ledger rows written to it after the merge.' })
  ledgerRowsAfterMerge: number;

  @Field(() => Float, { description: 'Its available points (0 after a merge).' })
  available: number;

  @Field(() => Float, { description: 'Its pending points (0 after a merge).' })
  pending: number;
}

@ObjectType({ description: 'An erased member whose account is not closed or still holds something: erasure forfeits every point and closes it.' })
export class ErasedHoldingReport {
  @Field(() => ID)
  memberId: string;

  @Field(() => Boolean, { description: 'Whether the erasure closed the account (false: the erasure did not reach the ledger).' })
  isClosed: boolean;

  @Field(() => Float, { description: 'Its available points (0 once closed).' })
  available: number;

  @Field(() => Float, { description: 'Its pending points (0 once closed).' })
  pending: number;

  @Field(() => Int, { description: 'Pending or available point lots still on it.' })
  liveLots: number;
}

@ObjectType()
export class LedgerCheckResult {
  @Field(() => Boolean)
  isConsistent: boolean;

  @Field(() => Int)
  membersChecked: number;

  @Field(() => [LedgerMismatchReport])
  mismatches: LedgerMismatchReport[];

  @Field(() => [MergedAwayHoldingReport], { description: 'Merged-away records holding orders, live lots, redemptions, points or later ledger rows; empty when consistent.' })
  mergedAwayHoldings: MergedAwayHoldingReport[];

  @Field(() => [ErasedHoldingReport], { description: 'Erased members whose account is not closed or still holds points or live lots; empty when consistent.' })
  erasedHoldings: ErasedHoldingReport[];

  @Field(() => [AggregateMismatchReport], { description: 'Members whose order or points history aggregates differ from their orders or ledger rows; empty when consistent.' })
  aggregateMismatches: AggregateMismatchReport[];
}

/** How many things a ledger check found wrong: balances or lots off their ledger rows, holdings left on merged-away
 * records or on erased members, and history aggregates off their rows; 0 when consistent. */
export function ledgerProblemCount(check: Pick<LedgerCheckResult, 'mismatches' | 'mergedAwayHoldings' | 'erasedHoldings' | 'aggregateMismatches'>): number {
  return check.mismatches.length + check.mergedAwayHoldings.length + check.erasedHoldings.length + check.aggregateMismatches.length;
}

/** What one pass of the scheduled points jobs did (recorded on its PointsJobRun by the jobs module). */
export interface PointsJobsResult {
  lotsReleased: number;
  lotsExpired: number;
  pointsExpired: number;
  vouchersExpired: number;
  tierPeriodsEnded: number;
}
