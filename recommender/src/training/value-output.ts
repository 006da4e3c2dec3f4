import type { ValueMetrics } from '../eval/value-metrics';
import type { ValueDriver } from '../eval/types';
import type { GateInput, Window } from './gate-types';
import type { PReturnByAmount } from './p-return';

/** The protocol's customer-value metrics (docs/eval/protocol.md, "Customer value"), for a model or a baseline. */
export type { ValueMetrics } from '../eval/value-metrics';

/** Why a member's predicted value is what it is: a feature and how far it moved the prediction. */
export type { ValueDriver } from '../eval/types';

/**
 * What training the customer-value model (kind VALUE) hands to the worker: the evaluation against the baselines on the
 * holdout, and serving predictions refitted on the whole history. The worker writes `serving` as the version's scores.
 */
export interface ValueOutput {
  kind: 'VALUE';
  algorithm: string;
  params: Record<string, unknown>;
  window: Window;
  horizonDays: number;
  trainRows: number;
  metrics: ValueMetrics;
  baselineMetrics: Record<string, ValueMetrics>;
  /** The promotion gate compares normalised Gini (and top-decile capture) with every baseline and the active version. */
  gateChecks(active: Record<string, unknown> | null): GateInput[];
  serving: {
    /** Customer ids as the history names them (member ids for the platform's own data). */
    population: string[];
    /** Expected spend over the next `horizonDays`, in currency units (the worker turns it into minor units). */
    amounts: Float64Array;
    /** P(the customer buys at all in the horizon). */
    pReturn: Float64Array;
    drivers: ValueDriver[][];
  };
  /** For a model that gives no P(return): the one fitted on its holdout predictions, kept for the re-scoring. */
  pReturnByAmount: PReturnByAmount | null;
  /** What a batch-scoring job needs to score again without training, if the model has it. */
  weights: unknown;
}
