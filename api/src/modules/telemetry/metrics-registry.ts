import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
} from 'prom-client';
import type { Logger } from '../../base/logger';
import { withTimeout } from '../../base/timeout';

/** Below Prometheus's default scrape_timeout (10 s), so a slow dependency costs its own figures, not the whole scrape. */
export const PROBE_TIMEOUT_MS = 2000;

/**
 * A reading taken when /metrics is scraped (a count in PostgreSQL, job counts in Redis). Its gauges are reset before
 * each reading, so a failed one shows as `loyalty_metrics_probe_success{probe} 0` and no stale figures.
 */
export interface Probe {
  name: string;
  gauges: readonly Gauge[];
  read(): Promise<void>;
}

/**
 * One Prometheus registry per app instance (tests run several in one process, and prom-client's global registry would
 * refuse the second), with Node's process metrics and the probes read at scrape time.
 */
export class MetricsRegistry {
  readonly registry = new Registry();
  private readonly probes: Probe[] = [];
  private readonly probeSuccess: Gauge<'probe'>;
  private readonly failing = new Set<string>();
  private reading: Promise<void> | null = null;

  constructor(private readonly log: Logger) {
    collectDefaultMetrics({ register: this.registry });
    this.probeSuccess = this.gauge({
      name: 'loyalty_metrics_probe_success',
      help: '1 if the last scrape-time reading of this probe succeeded within its timeout, 0 if it failed.',
      labelNames: ['probe'],
    });
  }

  counter<L extends string>(config: CounterConfiguration<L>): Counter<L> {
    return new Counter({ ...config, registers: [this.registry] });
  }

  gauge<L extends string>(config: GaugeConfiguration<L>): Gauge<L> {
    return new Gauge({ ...config, registers: [this.registry] });
  }

  histogram<L extends string>(config: HistogramConfiguration<L>): Histogram<L> {
    return new Histogram({ ...config, registers: [this.registry] });
  }

  addProbe(probe: Probe): void {
    this.probes.push(probe);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text, after reading every probe (each bounded by PROBE_TIMEOUT_MS). */
  async scrape(): Promise<string> {
    await this.readProbes();
    return this.registry.metrics();
  }

  /** Overlapping scrapes (several Prometheus servers, or someone polling an open endpoint) share the reading under way. */
  private readProbes(): Promise<void> {
    this.reading ??= Promise.all(this.probes.map((p) => this.read(p))).then(() => {
      this.reading = null;
    });
    return this.reading;
  }

  private async read(probe: Probe): Promise<void> {
    for (const gauge of probe.gauges) clear(gauge);
    try {
      await withTimeout(probe.read(), PROBE_TIMEOUT_MS, `metrics probe ${probe.name}`);
      this.probeSuccess.set({ probe: probe.name }, 1);
      if (this.failing.delete(probe.name)) this.log.info({ probe: probe.name }, 'metrics.probe_recovered');
    } catch (err) {
      for (const gauge of probe.gauges) clear(gauge);
      this.probeSuccess.set({ probe: probe.name }, 0);
      // Once per outage, not once per scrape.
      if (!this.failing.has(probe.name)) this.log.warn({ probe: probe.name, err: (err as Error).message }, 'metrics.probe_failed');
      this.failing.add(probe.name);
    }
  }
}

/** No series at all: prom-client's reset() leaves a gauge without labels at 0, which would read as a real figure. */
export function clear(gauge: Gauge): void {
  gauge.reset();
  if (!(gauge as unknown as { labelNames: string[] }).labelNames.length) gauge.remove();
}

/** A read-only query for a probe, which PostgreSQL itself stops after the probe's timeout rather than leaving it running. */
export function probeQuery<T>(em: EntityManager, work: (tx: EntityManager) => Promise<T>): Promise<T> {
  return em.fork().transactional(async (tx) => {
    await tx.execute(`set local statement_timeout = ${PROBE_TIMEOUT_MS}`);
    return work(tx);
  });
}

/** Seconds since `at`, or 0 when there is nothing waiting. */
export function ageSeconds(at: Date | string | null | undefined, now = Date.now()): number {
  return at == null ? 0 : Math.max(0, (now - new Date(at).getTime()) / 1000);
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * GET /metrics in the Prometheus text format. With a token, only `Authorization: Bearer <token>` is answered (compared
 * in constant time); without one the endpoint is open, for scrapers on a private network.
 */
export function metricsEndpoint(metrics: MetricsRegistry, token: string | undefined): RequestHandler {
  const expected = token ? digest(token) : null;
  return async (req, res, next) => {
    if (expected) {
      const header = req.headers.authorization;
      const given = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : '';
      if (!timingSafeEqual(digest(given), expected)) {
        res.setHeader('www-authenticate', 'Bearer realm="metrics"');
        res.status(401).type('text/plain').send('Unauthorized\n');
        return;
      }
    }
    try {
      const body = await metrics.scrape();
      res.setHeader('cache-control', 'no-store');
      res.type(metrics.contentType).send(body);
    } catch (err) {
      next(err);
    }
  };
}
