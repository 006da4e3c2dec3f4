import { Field, ObjectType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { PointsJobRun } from './points-job-run.entity';

@ObjectType({ description: 'When the points jobs run and what their recent runs did.' })
export class PointsJobsOverview {
  @Field(() => String, { nullable: true, description: "POINTS_JOBS_CRON of the API process answering (server's local time); null when it is off there." })
  cron: string | null;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'The next firing that cron gives.' })
  nextRunAt: Date | null;

  @Field(() => Boolean, { description: 'A run, from any process, holds the lock now.' })
  isRunning: boolean;

  @Field(() => [PointsJobRun], { description: 'Newest first.' })
  runs: PointsJobRun[];
}
