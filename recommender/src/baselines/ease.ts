import { evaluateScores } from '../eval/evaluate';
import { innerRecsSplit } from '../eval/split';
import type { RecsModel, RecsTrainSet } from '../eval/types';
import { cooccurrence, sumRows, userItemLists } from './interactions';
import { fastSpdInverse } from './float32-inverse';
import { spdInverse } from './linalg';

export const EASE_LAMBDAS = [10, 50, 100, 250, 500, 1000, 2000] as const;
/** Dense n × n float64 matrices, four at a time: 8,000 items is about 2 GB. */
export const EASE_MAX_ITEMS = 8000;
/** Used only when the inner split has no test users to choose with (a tiny history). */
const FALLBACK_LAMBDA = 250;

/** A float32 inverse is used only if G·P is this close to I on the sampled columns; float64 otherwise. */
export const FLOAT32_RESIDUAL_TOLERANCE = 1e-4;

/** max |(G·P − I)[i, j]| over `samples` columns j spread over the matrix, in float64 (P symmetric: row j = column j). */
export function inverseResidual(g: Float64Array, p: ArrayLike<number>, n: number, samples = 16): number {
  let worst = 0;
  const step = Math.max(1, Math.floor(n / samples));
  for (let j = 0; j < n; j += step) {
    const pj = j * n;
    for (let i = 0; i < n; i++) {
      const gi = i * n;
      let s = 0;
      for (let k = 0; k < n; k++) s += g[gi + k] * p[pj + k];
      worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
    }
  }
  return worst;
}

export interface InverseInfo {
  precision: 'float32' | 'float64';
  /** For float32: the checked residual of G·P − I. */
  residual: number;
}

/**
 * B = I − P·diag(1/diag(P)) with P = (XᵀX + λI)⁻¹: B[i,j] = −P[i,j] / P[j,j], zero diagonal. In float64 in JS
 * unless `fast`: then P is inverted in float32 on the TensorFlow.js wasm/native backend (about 8× faster) and kept
 * only if its float64 residual on sampled columns is within FLOAT32_RESIDUAL_TOLERANCE.
 */
export async function easeWeights(
  gram: Float64Array,
  n: number,
  lambda: number,
  fast = false,
  info?: (i: InverseInfo) => void,
): Promise<Float64Array> {
  const g = Float64Array.from(gram);
  for (let i = 0; i < n; i++) g[i * n + i] += lambda;
  let b: Float64Array | null = null;
  if (fast) {
    const p32 = await fastSpdInverse(g, n);
    const residual = p32 ? inverseResidual(g, p32, n) : Number.POSITIVE_INFINITY;
    if (p32 && residual <= FLOAT32_RESIDUAL_TOLERANCE) {
      b = Float64Array.from(p32);
      info?.({ precision: 'float32', residual });
    }
  }
  if (!b) {
    b = spdInverse(g, n);
    info?.({ precision: 'float64', residual: 0 });
  }
  const diag = Float64Array.from({ length: n }, (_, j) => b[j * n + j]);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let j = 0; j < n; j++) b[row + j] = i === j ? 0 : -b[row + j] / diag[j];
  }
  return b;
}

/**
 * EASE (Steck 2019). λ is chosen from EASE_LAMBDAS by NDCG@10 (view all) on the inner split (cutoff − horizon),
 * then the model is refitted on all train data. Inverses are float32 on a fast backend when one loads and the float64
 * residual check passes (on Online Retail: residual ~1e-6, every metric equal to float64 to six decimals, 5 s instead
 * of 43 s per inverse), else float64; `exact: true` forces float64.
 */
export class EaseBaseline implements RecsModel {
  readonly name = 'EASE';
  readonly kind = 'baseline' as const;
  lambda: number | undefined;
  /** NDCG@10 on the inner split for each λ tried. */
  readonly search: { lambda: number; ndcg: number; seconds: number }[] = [];
  /** Where the training time went: the λ search on the inner split, and the float64 refit. */
  seconds = { search: 0, refit: 0 };
  private n = 0;
  private lists: Int32Array[] = [];
  private b: Float64Array = new Float64Array(0);

  /** How the final B was inverted. */
  inverse: InverseInfo | undefined;

  constructor(private readonly options: { lambda?: number; lambdas?: readonly number[]; exact?: boolean } = {}) {}

  async fit(train: RecsTrainSet): Promise<void> {
    if (train.items.length > EASE_MAX_ITEMS) {
      throw new Error(`EASE needs dense ${train.items.length}² matrices; the limit is ${EASE_MAX_ITEMS} items`);
    }
    const t0 = performance.now();
    this.lambda = this.options.lambda ?? (await this.chooseLambda(train));
    const t1 = performance.now();
    this.n = train.items.length;
    this.lists = userItemLists(train);
    this.b = await easeWeights(cooccurrence(this.lists, this.n), this.n, this.lambda, !this.options.exact, (i) => (this.inverse = i));
    this.seconds = { search: (t1 - t0) / 1000, refit: (performance.now() - t1) / 1000 };
  }

  private async chooseLambda(train: RecsTrainSet): Promise<number> {
    const inner = innerRecsSplit(train);
    if (inner.testUsers.length === 0 || inner.train.items.length === 0) return FALLBACK_LAMBDA;
    const n = inner.train.items.length;
    const lists = userItemLists(inner.train);
    const gram = cooccurrence(lists, n);
    let best = { lambda: FALLBACK_LAMBDA, ndcg: -Infinity };
    for (const lambda of this.options.lambdas ?? EASE_LAMBDAS) {
      const t0 = performance.now();
      const b = await easeWeights(gram, n, lambda, !this.options.exact);
      const ndcg = evaluateScores(inner, (users) => sumRows(b, n, lists, users), ['all']).all['ndcg@10'];
      this.search.push({ lambda, ndcg, seconds: (performance.now() - t0) / 1000 });
      if (ndcg > best.ndcg) best = { lambda, ndcg };
    }
    return best.lambda;
  }

  params(): Record<string, unknown> {
    const innerNdcg = Object.fromEntries(this.search.map((s) => [s.lambda, Math.round(s.ndcg * 1e6) / 1e6]));
    const seconds = { search: Math.round(this.seconds.search * 10) / 10, refit: Math.round(this.seconds.refit * 10) / 10 };
    const inverse = this.inverse && { precision: this.inverse.precision, residual: Number(this.inverse.residual.toPrecision(2)) };
    return { lambda: this.lambda, ...(this.search.length ? { innerNdcg } : {}), seconds, inverse };
  }

  score(users: Int32Array): Float32Array {
    return sumRows(this.b, this.n, this.lists, users);
  }
}
