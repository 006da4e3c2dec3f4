import { Field, Int, ObjectType } from 'type-graphql';
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
