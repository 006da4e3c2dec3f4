import { Arg, Authorized, Ctx, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { Context } from '../../base/context';
import { Permission } from '../auth/permissions';
import { PointsJobRun } from './points-job-run.entity';
import type { PointsJobsService } from './points-jobs.service';
import { PointsJobsOverview } from './points-jobs.types';

@Resolver()
export class PointsJobsResolver {
  constructor(private readonly service: PointsJobsService) {}

  @Authorized(Permission.PROGRAMME_MANAGE)
  @Query(() => PointsJobsOverview, { description: "The points jobs' schedule, whether a run is under way, and the newest runs." })
  pointsJobs(@Ctx() ctx: Context, @Arg('recent', () => Int, { defaultValue: 20, description: 'How many runs, 1 to 100.' }) recent: number): Promise<PointsJobsOverview> {
    return this.service.overview(ctx.em, recent);
  }

  @Authorized(Permission.PROGRAMME_MANAGE)
  @Mutation(() => PointsJobRun, {
    description:
      'Runs the scheduled jobs now (release, expiry, expiry notices, vouchers, tier periods, then the ledger check) and answers with the finished run; CONFLICT POINTS_JOBS_RUNNING while another run is under way.',
  })
  runPointsJobs(@Ctx() ctx: Context): Promise<PointsJobRun> {
    return this.service.runNow(ctx);
  }
}
