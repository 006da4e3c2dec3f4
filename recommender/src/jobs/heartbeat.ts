import os from 'node:os';
import type { Job } from 'bull';
import type { Logger } from 'pino';
import { QUEUES, readPayload } from '@loyalty/jobs';

export interface HeartbeatResult {
  ok: true;
  /** `<hostname>:<pid>`, so ops can tell which worker answered. */
  worker: string;
  handledAt: string;
}

/** Answers `recommender.heartbeat`: proves a worker is connected and taking jobs, end to end. */
export function handleHeartbeat(log: Logger) {
  return async (job: Job<unknown>): Promise<HeartbeatResult> => {
    const payload = readPayload(QUEUES.heartbeat, job.data, [1]);
    switch (payload.v) {
      case 1: {
        const result: HeartbeatResult = { ok: true, worker: `${os.hostname()}:${process.pid}`, handledAt: new Date().toISOString() };
        log.debug({ jobId: job.id, requestedAt: payload.requestedAt }, 'heartbeat.handled');
        return result;
      }
    }
  };
}
