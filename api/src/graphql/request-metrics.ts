import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { RequestHandler } from 'express';
import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, parse, type GraphQLFormattedError } from 'graphql';
import type { Counter, Histogram } from 'prom-client';
import { errorCodes } from '../base/errors';
import { requestScope } from '../base/request-scope';
import type { Context } from '../base/context';
import type { MetricsRegistry } from '../modules/telemetry/metrics-registry';

/** Longer names are labelled `other` whatever they are: a label value is kept in memory for the life of the process. */
export const MAX_OPERATION_NAME_LENGTH = 64;
/** The label of an operation not on the known list. */
export const OTHER_OPERATION = 'other';
/** The label when no operation name is known: an anonymous operation, or a request refused before its body was read. */
export const ANONYMOUS_OPERATION = 'anonymous';
/** The code label of a request that had no error. */
export const OK = 'OK';
/** The code label of an error whose code is not one of the documented ones (the core's and those plugins declare). */
export const OTHER_CODE = 'OTHER';

type Labels = 'operation' | 'code';

/**
 * Requests to /graphql and their latency, by operation name and outcome code (the first error's `extensions.code`,
 * or OK). Both labels come from closed lists, so the number of series is bounded whatever clients send: operation
 * names not in `knownOperations` (the committed operations and the persisted-operations file) are `other`.
 *
 * The Express middleware times the whole request (authentication and rate limiting included) and records it when the
 * response is sent; the Apollo plugin, and `sendGraphqlError` for failures before Apollo runs, note the operation and
 * the code in the request scope.
 */
export class GraphqlRequestMetrics {
  private readonly requests: Counter<Labels>;
  private readonly duration: Histogram<Labels>;
  private readonly codes: ReadonlySet<string>;
  private readonly series = new Map<string, { requests: { inc(): void }; duration: { observe(value: number): void } }>();

  constructor(
    metrics: MetricsRegistry,
    private readonly knownOperations: ReadonlySet<string>,
    /** The codes plugins declare (defineErrorCode), documented with the core's: labelled by name, not OTHER. */
    declaredCodes: Iterable<string> = [],
  ) {
    this.codes = new Set([OK, ...Object.keys(errorCodes), ...declaredCodes]);
    this.requests = metrics.counter({
      name: 'loyalty_graphql_requests_total',
      help: 'GraphQL requests by operation name (other: not a known operation) and outcome code (the first error\'s extensions.code, or OK).',
      labelNames: ['operation', 'code'],
    });
    this.duration = metrics.histogram({
      name: 'loyalty_graphql_request_duration_seconds',
      help: 'Time from a GraphQL request arriving to its response being sent, by operation name and outcome code.',
      labelNames: ['operation', 'code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
  }

  readonly middleware: RequestHandler = (req, res, next) => {
    const scope = requestScope.getStore();
    const started = performance.now();
    res.once('finish', () => {
      // Apollo's landing page (a browser's GET outside production) is no operation.
      if (String(res.getHeader('content-type') ?? '').startsWith('text/html')) return;
      const given = (req.body as { operationName?: unknown } | undefined)?.operationName;
      const name = scope?.operationName !== undefined ? scope.operationName : typeof given === 'string' ? given : null;
      const series = this.seriesOf(this.operationLabel(name), this.codeLabel(scope?.outcomeCode, res.statusCode));
      series.requests.inc();
      series.duration.observe((performance.now() - started) / 1000);
    });
    next();
  };

  /** Notes the operation Apollo resolved (or the one the request named) and the first error's code, once formatted. */
  readonly plugin: ApolloServerPlugin<Context> = {
    async requestDidStart() {
      return {
        async willSendResponse({ response, operationName, request }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : response.body.initialResult.errors;
          noteOutcome(operationName ?? request.operationName ?? null, errors);
        },
      };
    },
  };

  /**
   * The counter and histogram of one label pair, looked up once: prom-client otherwise hashes the label object on every
   * call. Both labels come from closed lists, so the map is bounded like the series themselves.
   */
  private seriesOf(operation: string, code: string) {
    const key = `${operation}\u0000${code}`;
    let series = this.series.get(key);
    if (!series) {
      series = { requests: this.requests.labels(operation, code), duration: this.duration.labels(operation, code) };
      this.series.set(key, series);
    }
    return series;
  }

  private operationLabel(name: string | null): string {
    if (name === null || name === '') return ANONYMOUS_OPERATION;
    return name.length <= MAX_OPERATION_NAME_LENGTH && this.knownOperations.has(name) ? name : OTHER_OPERATION;
  }

  private codeLabel(code: string | undefined, status: number): string {
    if (code === undefined) return status < 400 ? OK : OTHER_CODE;
    return this.codes.has(code) ? code : OTHER_CODE;
  }
}

/** For the request metrics: the operation that ran (null: anonymous) and the first error's code, or OK. */
export function noteOutcome(operationName: string | null, errors: readonly GraphQLFormattedError[] | undefined): void {
  const scope = requestScope.getStore();
  if (!scope) return;
  scope.operationName = operationName;
  const code = errors?.[0]?.extensions?.code;
  scope.outcomeCode = !errors?.length ? OK : typeof code === 'string' ? code : OTHER_CODE;
}

/**
 * The operation names in the .graphql files under `operationsDir` (the admin app's and the storefront's, at any depth)
 * and in the persisted-operations file, which is where a deployment lists its own clients' operations. A missing
 * directory or file adds nothing; one that does not parse is reported through `onUnreadable` and adds nothing either
 * (PERSISTED_OPERATIONS, when on, refuses to start with it anyway).
 */
export function knownOperationNames(operationsDir: string, persistedOperationsFile: string, onUnreadable: (file: string, err: unknown) => void): Set<string> {
  const names = new Set<string>();
  const addFrom = (file: string, sources: () => string[]) => {
    try {
      for (const source of sources()) {
        for (const definition of parse(source).definitions) {
          if (definition.kind === Kind.OPERATION_DEFINITION && definition.name) names.add(definition.name.value);
        }
      }
    } catch (err) {
      onUnreadable(file, err);
    }
  };
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir).sort()) {
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (entry.endsWith('.graphql')) addFrom(full, () => [readFileSync(full, 'utf8')]);
    }
  };
  if (existsSync(operationsDir)) walk(operationsDir);
  if (existsSync(persistedOperationsFile)) {
    addFrom(persistedOperationsFile, () =>
      Object.values(JSON.parse(readFileSync(persistedOperationsFile, 'utf8')) as Record<string, unknown>).filter((t): t is string => typeof t === 'string'),
    );
  }
  return names;
}
