import type Queue from 'bull';
import type { Logger } from 'pino';
import { RETRY, type ModelKind, type TrainPayload } from '@loyalty/jobs';
import type { ModelStore } from './store';

/** The Bull job id of a kind's bootstrap training on one database: databases sharing a Redis never share one. */
export const bootstrapJobId = (kind: ModelKind, databaseKey: string) => `bootstrap-${kind}-${databaseKey}`;

/** Bull states of a job that will still run; any other (completed, failed, or in no list) is finished. */
const UNDER_WAY = new Set(['waiting', 'active', 'delayed', 'paused']);

/**
 * Queues one training job for each kind this database has never trained (no version but FAILED ones, so none
 * training either). The database decides, never Redis: the job id names the database, so another database's
 * bootstrap jobs on the same Redis are not this one's; and a finished bootstrap job of this database whose work the
 * database does not hold (it was wiped, or every attempt failed) is replaced rather than taken for done. A bootstrap job
 * still waiting or running is left alone, so several workers starting at once queue one job between them.
 * Returns the kinds it queued.
 */
export async function bootstrapModels(queues: Record<ModelKind, Queue.Queue>, store: ModelStore, log: Logger): Promise<ModelKind[]> {
  const databaseKey = await store.databaseKey();
  const queued: ModelKind[] = [];
  for (const kind of Object.keys(queues) as ModelKind[]) {
    const queue = queues[kind];
    const jobId = bootstrapJobId(kind, databaseKey);
    const earlier = await queue.getJob(jobId);
    const earlierState = earlier ? await earlier.getState() : null;
    if (earlierState && UNDER_WAY.has(earlierState)) continue;
    // Read after the job's state: a job that has finished wrote its version first, so this read sees it.
    if (await store.hasVersion(kind)) continue;
    if (earlier) {
      await earlier.remove();
      log.info({ kind, jobId, earlierState }, 'train.bootstrap_stale_job_replaced');
    }
    const payload = { v: 1, kind, requestedAt: new Date().toISOString(), requestedBy: 'bootstrap' } as TrainPayload;
    await queue.add(payload, { jobId, ...RETRY(60_000), removeOnComplete: 100, removeOnFail: 100 });
    log.info({ kind, jobId }, 'train.bootstrap_queued');
    queued.push(kind);
  }
  return queued;
}

