import type Queue from 'bull';
import type { Logger } from 'pino';

/** A Bull repeatable job a process keeps registered. */
export interface Schedule {
  queue: Queue.Queue;
  /** The job id of the schedule, one per queue and purpose. */
  id: string;
  /** When it fires; `off`: no schedule of this id is kept. */
  cron: string;
  payload: object;
  options?: Omit<Queue.JobOptions, 'repeat' | 'jobId'>;
}

export interface ScheduleKeeper {
  /** The first registration, at start (the caller reports its failure; the checks that follow try again). */
  registered: Promise<void>;
  /** Stops the checks (call before closing the queues). */
  close(): void;
}

/**
 * Keeps repeatable jobs registered. Bull keeps a schedule in Redis only, so a Redis that comes back empty (a restart
 * without its data, a failover to a replica behind, FLUSHALL) would leave it unscheduled until a process restarts:
 * the schedules are registered again whenever a queue's connection is ready again after a reconnect, and every
 * `checkEveryMs` (SCHEDULE_CHECK_SECONDS) for a Redis emptied under a live connection.
 *
 * Registering is idempotent, so every API and worker process does it: Bull keys a schedule by its name, id and cron,
 * and each firing's job by the schedule and the time it fires, so processes registering at once add one schedule and
 * one job per firing. A registration adds the next firing's job too, which also restores a schedule whose queued
 * firing alone was lost.
 */
export function keepScheduled(schedules: readonly Schedule[], opts: { checkEveryMs: number; log: Logger }): ScheduleKeeper {
  let isClosed = false;
  let running: Promise<string[]> | null = null;
  let isWanted = false;
  let hasFailed = false;

  const registerAll = async (): Promise<string[]> => {
    const missing: string[] = [];
    for (const schedule of schedules) if (await register(schedule)) missing.push(schedule.id);
    return missing;
  };
  // One check at a time, resolving with the ids that were missing; a reason to check arriving meanwhile (a reconnect,
  // the timer) runs one more after it.
  const check = (): Promise<string[]> => {
    if (running) {
      isWanted = true;
      return running;
    }
    running = (async () => {
      const missing: string[] = [];
      do {
        isWanted = false;
        missing.push(...(await registerAll()));
      } while (isWanted && !isClosed);
      return missing;
    })().finally(() => {
      running = null;
    });
    return running;
  };
  const recheck = () => {
    if (isClosed) return;
    // Joins the check under way (which runs once more); only the caller that started a check reports it.
    if (running) {
      isWanted = true;
      return;
    }
    check().then(
      (missing) => {
        hasFailed = false;
        if (missing.length) opts.log.warn({ schedules: missing }, 'schedules.restored');
      },
      (err: unknown) => {
        // Once per outage: the client reconnects by itself and the next check tries again.
        if (!isClosed && !hasFailed) opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'schedules.check_failed');
        hasFailed = true;
      },
    );
  };

  const stops: (() => void)[] = [];
  // Every `ready`, the first one too: a first registration that failed (Redis away at start) is retried at once.
  for (const client of new Set(schedules.map((s) => s.queue.client))) {
    client.on('ready', recheck);
    stops.push(() => client.off('ready', recheck));
  }
  const timer = setInterval(recheck, opts.checkEveryMs);
  timer.unref();
  stops.push(() => clearInterval(timer));

  return {
    registered: check().then(() => undefined),
    close() {
      isClosed = true;
      for (const stop of stops) stop();
    },
  };
}

/** Registers one schedule; true if it was missing. */
async function register(schedule: Schedule): Promise<boolean> {
  let isPresent = false;
  for (const r of await schedule.queue.getRepeatableJobs()) {
    if (r.id !== schedule.id) continue;
    if (r.cron === schedule.cron) isPresent = true;
    // A schedule left by an earlier deployment with another cron would fire as well: keep only this one.
    else await schedule.queue.removeRepeatableByKey(r.key);
  }
  if (schedule.cron === 'off') return false;
  // Added even when present (a no-op then, by the job ids), in case only its next firing's job was lost.
  await schedule.queue.add(schedule.payload, { ...schedule.options, repeat: { cron: schedule.cron }, jobId: schedule.id });
  return !isPresent;
}
