import type { EntityManager } from '@mikro-orm/postgresql';
import cronParser from 'cron-parser';
import type { Context } from '../../base/context';
import { AppError } from '../../base/errors';
import type { Logger } from '../../base/logger';
import { checkPageSize } from '../../base/pagination';
import { sessionLockHeld, withSessionLock } from '../../base/session-lock';
import { actorRef } from '../auth/principal';
import type { PointsService } from '../ledger/points.service';
import { ledgerProblemCount, type LedgerCheckResult } from '../ledger/points.types';
import type { PointsJobsMetrics } from './points-jobs.metrics';
import { PointsJobRun, PointsJobRunState, PointsJobsTrigger } from './points-job-run.entity';
import type { PointsJobsOverview } from './points-jobs.types';

/** The advisory lock one run holds, across every API process and the CLI on the database. */
export const POINTS_JOBS_LOCK = 'points-jobs.run';
const MAX_ERROR_LENGTH = 500;

/**
 * Runs the points jobs and then the ledger check, one run at a time on the database, and records each run in
 * `points_job_run`: the schedule, `runPointsJobs` and `npm run points:jobs` all come here.
 */
export class PointsJobsService {
  private metrics?: PointsJobsMetrics;

  constructor(
    private readonly points: PointsService,
    /** POINTS_JOBS_CRON of this process, shown to operators with the next firing it gives. */
    private readonly cron: string,
  ) {}

  /** The app's instruments, so /metrics shows each run's duration and the last ledger check (set at composition). */
  observeWith(metrics: PointsJobsMetrics): void {
    this.metrics = metrics;
  }

  /**
   * One run, recorded; `null` without running when another run holds the lock (its row says which). A row left
   * RUNNING by a process that died is marked INTERRUPTED first: holding the lock proves no one is running it.
   */
  async run(rootEm: EntityManager, log: Logger, trigger: PointsJobsTrigger, triggeredBy: string | null = null): Promise<{ run: PointsJobRun; check: LedgerCheckResult } | null> {
    const outcome = await withSessionLock(rootEm, POINTS_JOBS_LOCK, async () => {
      const em = rootEm.fork();
      await em.nativeUpdate(
        PointsJobRun,
        { state: PointsJobRunState.RUNNING },
        { state: PointsJobRunState.INTERRUPTED, finishedAt: new Date(), error: 'Its process ended before the run finished.' },
      );
      const run = em.create(PointsJobRun, { trigger, triggeredBy });
      await em.flush();
      const work = async () => {
        try {
          const done = await this.points.runJobs(rootEm, log);
          const check = await this.points.check(rootEm.fork());
          const problems = ledgerProblemCount(check);
          this.metrics?.recordLedgerCheck(problems);
          if (!check.isConsistent) log.error({ runId: run.id, mismatches: check.mismatches.length, mergedAwayHoldings: check.mergedAwayHoldings.length, erasedHoldings: check.erasedHoldings.length, aggregateMismatches: check.aggregateMismatches.length }, 'ledger.check_failed');
          em.assign(run, { ...done, state: PointsJobRunState.DONE, finishedAt: new Date(), ledgerConsistent: check.isConsistent, ledgerProblems: problems, membersChecked: check.membersChecked });
          await em.flush();
          return { run, check };
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          em.assign(run, { state: PointsJobRunState.FAILED, finishedAt: new Date(), error: message.slice(0, MAX_ERROR_LENGTH) });
          await em.flush().catch((flushErr: unknown) => log.error({ err: flushErr, runId: run.id }, 'points_jobs.not_recorded'));
          throw err;
        }
      };
      return this.metrics ? this.metrics.time(work) : work();
    });
    return outcome.ran ? outcome.value : null;
  }

  /** `runPointsJobs`: the run it did, or CONFLICT POINTS_JOBS_RUNNING while another run is under way. */
  async runNow(ctx: Context): Promise<PointsJobRun> {
    const done = await this.run(ctx.em, ctx.log, PointsJobsTrigger.ADMIN, actorRef(ctx.principal));
    if (done) return done.run;
    const running = await ctx.em.fork().findOne(PointsJobRun, { state: PointsJobRunState.RUNNING }, { orderBy: { startedAt: 'desc' } });
    throw AppError.conflict('POINTS_JOBS_RUNNING', 'The points jobs are running already; try again when that run has finished', running ? { runId: running.id } : {});
  }

  /** The schedule, whether a run holds the lock now, and the newest `recent` runs, newest first. */
  async overview(em: EntityManager, recent: number, now = new Date()): Promise<PointsJobsOverview> {
    checkPageSize(recent, 'recent');
    const [isRunning, runs] = await Promise.all([
      sessionLockHeld(em, POINTS_JOBS_LOCK),
      em.find(PointsJobRun, {}, { orderBy: { startedAt: 'desc', id: 'desc' }, limit: recent }),
    ]);
    const isScheduled = this.cron !== 'off';
    return {
      cron: isScheduled ? this.cron : null,
      nextRunAt: isScheduled ? cronParser.parseExpression(this.cron, { currentDate: now }).next().toDate() : null,
      isRunning,
      runs,
    };
  }
}
