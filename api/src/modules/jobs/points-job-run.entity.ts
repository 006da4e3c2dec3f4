import { BigIntType, Entity, Enum, Index, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { newId } from '../../base/ids';

/** Who started a run of the points jobs. */
export enum PointsJobsTrigger {
  /** The repeatable job on POINTS_JOBS_CRON. */
  SCHEDULE = 'SCHEDULE',
  /** `runPointsJobs`, from the admin app's Points jobs page or any admin client. */
  ADMIN = 'ADMIN',
  /** `npm run points:jobs`. */
  CLI = 'CLI',
}
registerEnumType(PointsJobsTrigger, {
  name: 'PointsJobsTrigger',
  valuesConfig: {
    SCHEDULE: { description: 'The repeatable job on POINTS_JOBS_CRON.' },
    ADMIN: { description: '`runPointsJobs`.' },
    CLI: { description: '`npm run points:jobs`.' },
  },
});

export enum PointsJobRunState {
  RUNNING = 'RUNNING',
  /** Every job ran and the ledger check followed (its verdict is in `ledgerConsistent`). */
  DONE = 'DONE',
  /** A job or the check threw; `error` says what. Whatever was committed member by member stays. */
  FAILED = 'FAILED',
  /** Its process ended before it finished; marked by the next run. The next run does whatever was left. */
  INTERRUPTED = 'INTERRUPTED',
}
registerEnumType(PointsJobRunState, {
  name: 'PointsJobRunState',
  valuesConfig: {
    DONE: { description: 'Every job ran, then the ledger check (its verdict is `ledgerConsistent`).' },
    FAILED: { description: 'A job or the check threw (`error`); what was committed member by member stays.' },
    INTERRUPTED: { description: 'Its process ended first; the next run marked it and did what was left.' },
  },
});

/**
 * One run of the scheduled points jobs (release, expiry, expiry notices, voucher expiry, tier period ends, then the
 * ledger check), recorded in the database whatever Redis keeps of the queue, so operators see what ran and what it did.
 */
@ObjectType({ description: 'One run of the points jobs and what it did.' })
@Entity({ tableName: 'points_job_run' })
@Index({ name: 'points_job_run_started_at_index', properties: ['startedAt'] })
export class PointsJobRun {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @Field(() => PointsJobsTrigger)
  @Enum({ items: () => PointsJobsTrigger })
  trigger: PointsJobsTrigger;

  @Field(() => String, { nullable: true, description: 'admin:<id> for a run an admin started; null for the schedule and the CLI.' })
  @Property({ type: 'string', length: 80, nullable: true })
  triggeredBy: string | null = null;

  @Field(() => PointsJobRunState)
  @Enum({ items: () => PointsJobRunState })
  state: Opt<PointsJobRunState> = PointsJobRunState.RUNNING;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  startedAt: Opt<Date> = new Date();

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  finishedAt: Date | null = null;

  @Field(() => Int, { description: 'Pending lots whose return window closed: their points became available.' })
  @Property({ type: 'integer' })
  lotsReleased: Opt<number> = 0;

  @Field(() => Int)
  @Property({ type: 'integer' })
  lotsExpired: Opt<number> = 0;

  @Field(() => Float, { description: 'Whole points; a Float because a run over many members may pass 2^31.' })
  @Property({ type: new BigIntType('number') })
  pointsExpired: Opt<number> = 0;

  @Field(() => Int)
  @Property({ type: 'integer' })
  vouchersExpired: Opt<number> = 0;

  @Field(() => Int)
  @Property({ type: 'integer' })
  tierPeriodsEnded: Opt<number> = 0;

  @Field(() => Boolean, { nullable: true, description: 'What the ledger check after the jobs found; null until it ran.' })
  @Property({ type: 'boolean', nullable: true })
  ledgerConsistent: boolean | null = null;

  @Field(() => Int, { nullable: true, description: 'Members whose balance, lots or history aggregates disagree with their ledger rows, plus merged-away records holding anything; `ledgerCheck` lists them.' })
  @Property({ type: 'integer', nullable: true })
  ledgerProblems: number | null = null;

  @Field(() => Int, { nullable: true })
  @Property({ type: 'integer', nullable: true })
  membersChecked: number | null = null;

  @Field(() => String, { nullable: true, description: 'Why a FAILED or INTERRUPTED run stopped.' })
  @Property({ type: 'text', nullable: true })
  error: string | null = null;
}
