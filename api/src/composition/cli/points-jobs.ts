import { PointsJobsTrigger } from '../../modules/jobs/points-job-run.entity';
import { runCli } from './run';

/**
 * `npm run points:jobs` runs the scheduled points work once now and records the run (the admin app's Points jobs page
 * lists it); it exits 2 when another run is under way. `-- --check` only proves the ledger, and records nothing.
 */
runCli('points-jobs', async ({ orm, services, log }) => {
  let check;
  if (process.argv.includes('--check')) {
    check = await services.points.check(orm.em.fork());
  } else {
    const done = await services.pointsJobs.run(orm.em, log, PointsJobsTrigger.CLI);
    if (!done) {
      console.error('The points jobs are running already (the schedule or an admin started them); try again when that run has finished.');
      process.exitCode = 2;
      return;
    }
    const { id, lotsReleased, lotsExpired, pointsExpired, vouchersExpired, tierPeriodsEnded } = done.run;
    console.log(JSON.stringify({ runId: id, lotsReleased, lotsExpired, pointsExpired, vouchersExpired, tierPeriodsEnded }));
    check = done.check;
  }
  console.log(JSON.stringify({ isConsistent: check.isConsistent, membersChecked: check.membersChecked, mismatches: check.mismatches.slice(0, 10), mergedAwayHoldings: check.mergedAwayHoldings.slice(0, 10), erasedHoldings: check.erasedHoldings.slice(0, 10), aggregateMismatches: check.aggregateMismatches.slice(0, 10) }));
  if (!check.isConsistent) process.exitCode = 1;
});
