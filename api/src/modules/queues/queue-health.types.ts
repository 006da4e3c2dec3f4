import { Field, ID, Int, ObjectType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';

@ObjectType({ description: 'Jobs per state in one Bull queue, and the worker processes taking its jobs.' })
export class QueueHealth {
  @Field(() => String, { description: 'The queue name, `<app>.<action>`.' })
  name: string;

  @Field(() => String, { description: 'Which process takes its jobs, and what they do.' })
  description: string;

  @Field(() => Int)
  waiting: number;

  @Field(() => Int)
  active: number;

  @Field(() => Int, { description: 'Completed jobs still kept (each queue keeps only its latest ones).' })
  completed: number;

  @Field(() => Int, { description: 'Failed jobs still kept, after their last attempt.' })
  failed: number;

  @Field(() => Int, { description: 'Jobs waiting for a retry back-off or a scheduled time.' })
  delayed: number;

  @Field(() => Int)
  paused: number;

  @Field(() => Int, { description: 'Processes connected to Redis with a handler for this queue (Bull names their connection).' })
  workers: number;

  @Field(() => Boolean, { description: 'At least one worker is connected, so new jobs will be taken.' })
  isWorkerAlive: boolean;

  @Field(() => DateTimeISOResolver)
  checkedAt: Date;
}

@ObjectType({ description: 'An in-process outbox subscriber a plugin registered: how far behind it is, and why it is stuck if it is.' })
export class OutboxSubscriberHealth {
  @Field(() => String)
  name: string;

  @Field(() => [String], { nullable: true, description: 'The event types it handles; null for every type.' })
  eventTypes: string[] | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Events after its cursor (of its types), counted up to 10 000; null until it first ran.',
  })
  lag: number | null;

  @Field(() => Int, { description: 'Failed attempts at the event it is stuck on; 0 when its last attempt succeeded.' })
  attempts: number;

  @Field(() => Boolean, { description: 'Failed at least SUBSCRIBERS_REPORT_AFTER times in a row at one event (still retried).' })
  isStuck: boolean;

  @Field(() => ID, { nullable: true, description: 'The event it keeps failing on.' })
  failingEventId: string | null;

  @Field(() => String, { nullable: true, description: 'The latest failure, kept after it recovers.' })
  lastError: string | null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  lastErrorAt: Date | null;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'When the failing event is offered again.' })
  nextAttemptAt: Date | null;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'When its cursor last moved or a failure was recorded.' })
  updatedAt: Date | null;
}
