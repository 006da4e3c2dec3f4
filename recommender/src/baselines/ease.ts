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

/**
 * B = I − P·diag(1/diag(P)) with P = (XᵀX + λI)⁻¹: B[i,j] = −P[i,j] / P[j,j], zero diagonal. In float64 unless
 * `fast`, which inverts in float32 on the TensorFlow.js wasm/native backend when there is one (about 10× faster).
 */
export async function easeWeights(gram: Float64Array, n: number, lambda: number, fast = false): Promise<Float64Array> {
  const g = Float64Array.from(gram);
  for (let i = 0; i < n; i++) g[i * n + i] += lambda;
  const p32 = fast ? await fastSpdInverse(g, n) : null;
  const b = p32 ? Float64Array.from(p32) : spdInverse(g, n);
  const diag = Float64Array.from({ length: n }, (_, j) => b[j * n + j]);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let j = 0; j < n; j++) b[row + j] = i === j ? 0 : -b[row + j] / diag[j];
  }
  return b;
}

/**
 * EASE (Steck 2019). λ is chosen from EASE_LAMBDAS by NDCG@10 (view all) on the inner split (cutoff − horizon),
 * then the model is refitted on all train data. The search inverts in float32 on a fast backend when there is one
 * (P agrees with float64 to ~1e-7 relative, far below what moves a ranking); the refit is always float64.
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

  constructor(private readonly options: { lambda?: number; lambdas?: readonly number[]; fastSearch?: boolean } = {}) {}

  async fit(train: RecsTrainSet): Promise<void> {
    if (train.items.length > EASE_MAX_ITEMS) {
      throw new Error(`EASE needs dense ${train.items.length}² matrices; the limit is ${EASE_MAX_ITEMS} items`);
    }
    const t0 = performance.now();
    this.lambda = this.options.lambda ?? (await this.chooseLambda(train));
    const t1 = performance.now();
    this.n = train.items.length;
    this.lists = userItemLists(train);
    this.b = await easeWeights(cooccurrence(this.lists, this.n), this.n, this.lambda);
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
      const b = await easeWeights(gram, n, lambda, this.options.fastSearch ?? true);
      const ndcg = evaluateScores(inner, (users) => sumRows(b, n, lists, users), ['all']).all['ndcg@10'];
      this.search.push({ lambda, ndcg, seconds: (performance.now() - t0) / 1000 });
      if (ndcg > best.ndcg) best = { lambda, ndcg };
    }
    return best.lambda;
  }

  params(): Record<string, unknown> {
    const innerNdcg = Object.fromEntries(this.search.map((s) => [s.lambda, Math.round(s.ndcg * 1e6) / 1e6]));
    const seconds = { search: Math.round(this.seconds.search * 10) / 10, refit: Math.round(this.seconds.refit * 10) / 10 };
    return this.search.length ? { lambda: this.lambda, innerNdcg, seconds } : { lambda: this.lambda, seconds };
  }

  score(users: Int32Array): Float32Array {
    return sumRows(this.b, this.n, this.lists, users);
  }
}
