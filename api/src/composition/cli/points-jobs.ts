import { runCli } from './run';

/** `npm run points:jobs` runs the scheduled points work once now; `-- --check` only proves the ledger. */
runCli('points-jobs', async ({ orm, services, log }) => {
  if (!process.argv.includes('--check')) {
    const result = await services.points.runJobs(orm.em, log);
    console.log(JSON.stringify(result));
  }
  const check = await services.points.check(orm.em.fork());
  console.log(JSON.stringify({ isConsistent: check.isConsistent, membersChecked: check.membersChecked, mismatches: check.mismatches.slice(0, 10), mergedAwayHoldings: check.mergedAwayHoldings.slice(0, 10), aggregateMismatches: check.aggregateMismatches.slice(0, 10) }));
  if (!check.isConsistent) process.exitCode = 1;
});
