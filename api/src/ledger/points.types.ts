import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { IsInt, IsUUID, Length, Max, Min, NotEquals } from 'class-validator';
import { LedgerEntry } from './ledger-entry.entity';
import { connectionOf } from '../shared/pagination';

@ObjectType()
export class PointsExpiry {
  @Field(() => Int)
  points: number;

  @Field(() => DateTimeISOResolver)
  expiresAt: Date;
}

@ObjectType({ description: "A member's points. Every figure is a sum of the ledger." })
export class MemberPoints {
  @Field(() => Int, { description: 'Spendable now. Negative when returns took back points already spent.' })
  available: number;

  @Field(() => Int, { description: 'Earned but inside the return window.' })
  pending: number;

  @Field(() => Int, { description: 'Earned from orders and goodwill, net of returns.' })
  lifetime: number;

  @Field(() => PointsExpiry, { nullable: true, description: 'The next points to expire: the amount expiring on the earliest date.' })
  nextExpiry: PointsExpiry | null;
}

@InputType()
export class AdjustPointsInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'must be an id' })
  memberId: string;

  @Field(() => Int, { description: 'Positive adds points (available at once), negative removes available points.' })
  @IsInt()
  @NotEquals(0, { message: 'must not be zero' })
  @Min(-1_000_000)
  @Max(1_000_000)
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

@ObjectType({ description: 'A member whose cached balance or lots disagree with the ledger.' })
export class LedgerMismatchReport {
  @Field(() => ID)
  memberId: string;

  @Field(() => Int, { nullable: true })
  balanceAvailable: number | null;

  @Field(() => Int)
  ledgerAvailable: number;

  @Field(() => Int, { nullable: true })
  balancePending: number | null;

  @Field(() => Int)
  ledgerPending: number;

  @Field(() => Int, { nullable: true })
  balanceLifetime: number | null;

  @Field(() => Int)
  ledgerLifetime: number;

  @Field(() => Int)
  lotsAvailable: number;

  @Field(() => Int)
  lotsPending: number;
}

@ObjectType()
export class LedgerCheckResult {
  @Field(() => Boolean)
  isConsistent: boolean;

  @Field(() => Int)
  membersChecked: number;

  @Field(() => [LedgerMismatchReport])
  mismatches: LedgerMismatchReport[];
}

@ObjectType({ description: 'What one run of the scheduled points jobs did.' })
export class PointsJobsResult {
  @Field(() => Int)
  lotsReleased: number;

  @Field(() => Int)
  lotsExpired: number;

  @Field(() => Int)
  pointsExpired: number;

  @Field(() => Int)
  vouchersExpired: number;

  @Field(() => Int)
  tierPeriodsEnded: number;
}
