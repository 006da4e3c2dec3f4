import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Job } from 'bull';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { ModelKind } from '@loyalty/jobs';

/** A training job's outcome: the promotion gate's verdict, or FAILED when it threw. */
type TrainingStatus = 'ACTIVE' | 'REJECTED' | 'RETIRED' | 'FAILED';

/**
 * What the worker's GET /metrics shows (docs/operations/metrics.md): every job it runs, trainings by the gate's
 * verdict, and Node's process metrics. Queue depths are the API's to report: they are the same whichever process reads them.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly jobSeconds: Histogram<'queue' | 'outcome'>;
  private readonly trainingSeconds: Histogram<'kind' | 'status'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.jobSeconds = new Histogram({
      name: 'loyalty_worker_job_duration_seconds',
      help: 'One attempt at a job of this worker (training, scoring, heartbeat), by queue and outcome: completed or failed.',
      labelNames: ['queue', 'outcome'],
      buckets: [0.01, 0.1, 1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
      registers: [this.registry],
    });
    this.trainingSeconds = new Histogram({
      name: 'loyalty_model_training_duration_seconds',
      help: "One training of a model (read history, train, evaluate, write scores, gate, and a baseline trained to serve in its place when it was kept out), by kind and outcome: the promotion gate's verdict on the model (ACTIVE, REJECTED, RETIRED) or FAILED.",
      labelNames: ['kind', 'status'],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
      registers: [this.registry],
    });
  }

  /** The handler, timed: each attempt is observed whether it completes or throws. */
  timed<R>(queue: string, handler: (job: Job<unknown>) => Promise<R>): (job: Job<unknown>) => Promise<R> {
    return async (job) => {
      const started = performance.now();
      const seconds = () => (performance.now() - started) / 1000;
      try {
        const result = await handler(job);
        this.jobSeconds.observe({ queue, outcome: 'completed' }, seconds());
        return result;
      } catch (err) {
        this.jobSeconds.observe({ queue, outcome: 'failed' }, seconds());
        throw err;
      }
    };
  }

  /** A training handler, timed by the gate's verdict on what it trained. */
  timedTraining<R extends { status: Exclude<TrainingStatus, 'FAILED'> }>(kind: ModelKind, handler: (job: Job<unknown>) => Promise<R>) {
    return async (job: Job<unknown>): Promise<R> => {
      const started = performance.now();
      let status: TrainingStatus = 'FAILED';
      try {
        const result = await handler(job);
        status = result.status;
        return result;
      } finally {
        this.trainingSeconds.observe({ kind, status }, (performance.now() - started) / 1000);
      }
    };
  }
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * A small HTTP listener with GET /metrics alone. With a token, only `Authorization: Bearer <token>` is answered (as on
 * the API); without one it is open, for a scraper on a private network. Resolves with the port once listening.
 */
export function serveMetrics(metrics: WorkerMetrics, options: { port: number; host: string; token?: string }): { server: http.Server; listening: Promise<number> } {
  const expected = options.token ? digest(options.token) : null;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
      return;
    }
    const header = req.headers.authorization;
    const given = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (expected && !timingSafeEqual(digest(given), expected)) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="metrics"' }).end('Unauthorized\n');
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : body),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('Metrics unavailable\n'),
    );
  });
  const listening = new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve((server.address() as AddressInfo).port));
  });
  return { server, listening };
}
