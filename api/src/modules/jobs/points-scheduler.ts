import { keepScheduled, openQueue, type QueueConnection } from '@loyalty/jobs';
import type { Logger } from '../../base/logger';
import type { Orm } from '../../base/database';
import { MINUTE_MS } from '../../base/time';
import { PointsJobsTrigger } from './points-job-run.entity';
import type { PointsJobsService } from './points-jobs.service';

export const POINTS_JOBS_QUEUE = 'api.points-jobs';

/** Payload of the repeatable job; `v` lets a future shape coexist with jobs already queued. */
export interface PointsJobsPayload {
  v: 1;
}

/**
 * Runs the points jobs (release, expiry, voucher expiry, tier period ends, then the ledger check) on a cron
 * schedule. Bull keeps one repeatable job however many API processes start, and one process runs each firing; each
 * process registers it again if Redis comes back without it (schedules.ts).
 */
export function startPointsScheduler(deps: {
  orm: Orm;
  services: { pointsJobs: PointsJobsService };
  log: Logger;
  /** Redis and QUEUE_PREFIX, shared with the other queues (a Redis Cluster hash tag keeps them in one slot). */
  connection: QueueConnection;
  cron: string;
  /** SCHEDULE_CHECK_SECONDS in ms: how often the schedule is registered again if Redis lost it (a minute if not given). */
  checkEveryMs?: number;
  queueName?: string;
}) {
  const name = deps.queueName ?? POINTS_JOBS_QUEUE;
  const queue = openQueue<PointsJobsPayload>(name, deps.connection);
  const log = deps.log.child({ queue: name });
  queue.on('error', (err) => log.warn({ err: err.message }, 'queue.error'));
  queue.on('failed', (job, err) => log.error({ jobId: job.id, err }, 'job.failed'));

  queue
    .process(async (job) => {
      if (job.data.v !== 1) throw new Error(`unknown ${name} payload version ${String(job.data.v)}`);
      const done = await deps.services.pointsJobs.run(deps.orm.em, log, PointsJobsTrigger.SCHEDULE);
      // A run started by an admin or the CLI is under way: this firing's work is in it.
      if (!done) return { skipped: 'another run holds the lock' };
      return { runId: done.run.id, isConsistent: done.check.isConsistent };
    })
    .catch((err: unknown) => log.error({ err }, 'points_scheduler.stopped'));

  const schedule = keepScheduled(
    [{ queue, id: 'points-jobs', cron: deps.cron, payload: { v: 1 } satisfies PointsJobsPayload, options: { removeOnComplete: 50, removeOnFail: 50 } }],
    { checkEveryMs: deps.checkEveryMs ?? MINUTE_MS, log },
  );
  schedule.registered.catch((err: unknown) => log.warn({ err }, 'points_scheduler.not_scheduled'));
  log.info({ cron: deps.cron }, 'points_scheduler.ready');
  return {
    queue,
    close: () => {
      schedule.close();
      return queue.close();
    },
  };
}
