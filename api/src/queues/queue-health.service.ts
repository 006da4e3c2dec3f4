import Queue from 'bull';
import { countWorkers, openQueue, QUEUES } from '@loyalty/jobs';
import type { Config } from '../shared/config';
import { unavailableUnlessRedisAnswers } from '../shared/timeout';
import { POINTS_JOBS_QUEUE } from '../jobs/points-scheduler';
import { WEBHOOK_DELIVERY_QUEUE } from '../webhooks/dispatcher';
import type { QueueHealth } from './queue-health.types';

/** Every queue the platform uses, with who processes it. */
export const KNOWN_QUEUES: readonly { name: string; description: string }[] = [
  { name: QUEUES.trainRecommender, description: 'Recommender worker: trains the recommender, evaluates it, writes its scores and applies the promotion gate.' },
  { name: QUEUES.trainChurn, description: 'Recommender worker: trains the churn model, evaluates it, writes its scores and applies the promotion gate.' },
  { name: QUEUES.score, description: "Recommender worker: scores every member's churn risk again with a trained version's weights." },
  { name: QUEUES.heartbeat, description: 'Recommender worker: answers liveness probes.' },
  { name: WEBHOOK_DELIVERY_QUEUE, description: 'API: delivers signed webhooks, with retries.' },
  { name: POINTS_JOBS_QUEUE, description: 'API: the scheduled points jobs (release, expiry, tier periods, ledger check).' },
];

const TIMEOUT_MS = 3000;

/** Job counts and connected workers per queue, read from Redis through Bull. */
export class QueueHealthService {
  private readonly queues = new Map<string, Queue.Queue>();

  constructor(private readonly config: Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES' | 'QUEUE_PREFIX'>) {}

  /** Opened on first use and kept: the models page polls this. */
  private queue(name: string): Queue.Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = openQueue(name, this.config);
      this.queues.set(name, queue);
    }
    return queue;
  }

  async health(): Promise<QueueHealth[]> {
    return unavailableAfterTimeout(() =>
      Promise.all(
        KNOWN_QUEUES.map(async ({ name, description }) => {
          const queue = this.queue(name);
          const [counts, workers] = await Promise.all([queue.getJobCounts(), countWorkers(queue)]);
          const c = counts as Queue.JobCounts & { paused?: number };
          return {
            name,
            description,
            waiting: c.waiting,
            active: c.active,
            completed: c.completed,
            failed: c.failed,
            delayed: c.delayed,
            paused: c.paused ?? 0,
            workers,
            isWorkerAlive: workers > 0,
            checkedAt: new Date(),
          };
        }),
      ),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
  }
}

/** ioredis retries while Redis is away; the caller gets SERVICE_UNAVAILABLE after a few seconds instead. */
function unavailableAfterTimeout<T>(work: () => Promise<T>): Promise<T> {
  return unavailableUnlessRedisAnswers(work, TIMEOUT_MS, 'The job queues (Redis) are unreachable; try again shortly');
}
