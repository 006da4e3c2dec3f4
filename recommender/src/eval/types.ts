/**
 * The contract between the evaluation harness (recommender/src/eval) and every recommender or churn model,
 * baseline or TensorFlow.js. The harness owns reading, cleaning and splitting (docs/eval/protocol.md);
 * a model only ever sees rows strictly before the cutoff it is given.
 */

/** One cleaned transaction line in the canonical layout (see docs/eval/data.md). */
export interface Txn {
  invoice: string;
  /** Trimmed, upper-cased; null in files without product columns (churn only). */
  stockCode: string | null;
  description: string | null;
  quantity: number;
  /** Naive local wall-clock time read as if it were UTC, in ms since the epoch. */
  time: number;
  /** Price per unit in the file's currency (not minor units: evaluation only). */
  unitPrice: number;
  customerId: string;
  country: string | null;
}

/** Training data for the recommendation task: cleaned rows before the cutoff, indexed densely. */
export interface RecsTrainSet {
  cutoff: number;
  horizonDays: number;
  /** Customer ids; a user's index is its position here. */
  users: string[];
  /** The catalogue: distinct StockCodes in train, sorted ascending; an item's index is its position here. */
  items: string[];
  /** Train rows as parallel arrays, sorted by time (then file order). */
  events: {
    user: Int32Array;
    item: Int32Array;
    /** Index into `invoices`. */
    invoice: Int32Array;
    time: Float64Array;
    quantity: Float64Array;
    unitPrice: Float64Array;
  };
  invoices: string[];
  /** Per item: the most common description (null when none) and the mean unit price. */
  itemDescription: (string | null)[];
  itemMeanPrice: Float64Array;
  userCountry: (string | null)[];
}

export interface RecsModel {
  readonly name: string;
  readonly kind: 'baseline' | 'model';
  /** Learns from train only; may split train further in time to tune itself (never by hand). */
  fit(train: RecsTrainSet, hooks?: FitHooks): Promise<void>;
  /**
   * Scores every catalogue item for each of the given users: row-major, users.length × items.length.
   * Higher ranks first; the harness breaks ties by StockCode ascending and removes items per view.
   */
  score(users: Int32Array): Float32Array | Float64Array;
}

/** Churn: one row per customer in the population at the cutoff. */
export interface ChurnModel {
  readonly name: string;
  readonly kind: 'baseline' | 'model';
  /**
   * Gets every cleaned row before `cutoff` and returns a score per customer of `population` (same order):
   * higher means likelier to buy nothing in [cutoff, cutoff + horizonDays). Training must stay in the past
   * (features at cutoff − horizon, labels from [cutoff − horizon, cutoff)).
   * `isProbability` says whether scores are calibrated probabilities (then Brier is reported; the worker serves only
   * probabilities). Drivers, when returned, are what the worker stores to explain each score.
   */
  fitPredict(rows: Txn[], population: string[], cutoff: number, horizonDays: number, hooks?: FitHooks): Promise<StoredChurnScores & { isProbability: boolean }>;
}

/**
 * Customer value: predicted spend in [cutoff, cutoff + horizonDays) per customer of the churn population
 * (docs/eval/protocol.md, "Customer value"). Same rules as churn: only rows before the cutoff, training in the past.
 */
export interface ValueModel {
  readonly name: string;
  readonly kind: 'baseline' | 'model';
  fitPredict(rows: Txn[], population: string[], cutoff: number, horizonDays: number, hooks?: FitHooks, context?: ValueContext): Promise<ValuePrediction>;
}

export interface ValuePrediction {
  /** Expected spend in the horizon, in the data's currency units; same order as the population. */
  predictions: Float64Array;
  /** P(any purchase in the horizon), for models that have it. */
  pReturn?: Float64Array;
  /** Per customer, what moved the prediction, strongest first (the worker keeps three), for models that explain it. */
  drivers?: ValueDriver[][];
}

/** What a data source can add beyond cleaned rows. */
export interface ValueContext {
  /**
   * Cancellation lines (invoice `C…`/`A…` followed by a digit) of known customers, as the file has them (negative
   * quantities); cleaning drops them, so a model that wants returns as a feature reads them here. Absent when the
   * source has none (the platform's orders arrive net of returns).
   */
  returns?: Txn[];
}

export interface ValueDriver {
  feature: string;
  value: number;
  /** Contribution to the log of the expected spend; positive raises the value. */
  contribution: number;
}

/** Optional on a ValueModel: after fitPredict, the strongest drivers of each population member's prediction. */
export interface ExplainsValue {
  valueDrivers(index: number, k: number): ValueDriver[];
}

/** Optional: training progress, reported by the worker as the job's progress (phase, epoch, loss). */
export interface FitHooks {
  onEpoch?(epoch: number, epochs: number, loss: number): void | Promise<void>;
  /** Caps epochs, e.g. for quick runs on tiny data. */
  maxEpochs?: number;
}

/** Optional on a RecsModel: item vectors for `product.similarProducts` and for recommendation reasons. */
export interface HasItemEmbeddings {
  itemEmbeddings(): { dim: number; vectors: Float32Array };
}

export interface ChurnDriver {
  feature: string;
  /** The feature in words, for people (the admin app shows it); absent in drivers stored before labels existed. */
  label?: string;
  value: number;
  /** Contribution to the log-odds of churning; positive raises the risk. */
  contribution: number;
}

/** Optional on a ChurnModel: after fitPredict, the strongest drivers of each population member's score. */
export interface ExplainsChurn {
  drivers(index: number, k: number): ChurnDriver[];
}

/**
 * Optional on a ChurnModel: re-scoring without training. After fitPredict, `exportWeights` returns what the fit learned
 * as plain JSON (arrays, not typed arrays), which the worker stores with the version; the periodic re-scoring job then
 * calls `scoreStored` on a fresh instance with those weights and the history as it is now, so a served version's scores
 * follow new orders between trainings. A model without it is scored only when it is trained.
 */
export interface RescoresChurn<W = unknown> {
  exportWeights(): W;
  scoreStored(weights: W, rows: Txn[], population: string[], cutoff: number, horizonDays: number): StoredChurnScores | Promise<StoredChurnScores>;
}

/** Probabilities of churning in the horizon (population order), and optionally each customer's drivers, strongest first (the worker keeps three). */
export interface StoredChurnScores {
  scores: Float64Array;
  drivers?: ChurnDriver[][];
}

/** Optional on a ValueModel: as RescoresChurn, with the value context (returns) that fitPredict also receives. */
export interface RescoresValue<W = unknown> {
  exportWeights(): W;
  scoreStored(weights: W, rows: Txn[], population: string[], cutoff: number, horizonDays: number, context?: ValueContext): StoredValueScores | Promise<StoredValueScores>;
}

export type StoredValueScores = ValuePrediction;

/** Optional on a ChurnModel or ValueModel: after fitPredict, a fresh model that trains what that fit chose without searching. */
export interface ReusesChoice<M = ChurnModel> {
  withSameChoice(): M;
}

/** Optional on either model: hyper-parameters chosen, for the registry. */
export interface HasParams {
  params(): Record<string, unknown>;
}
