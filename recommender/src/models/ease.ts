import { tf } from '../tf/backend';
import { spdInverse } from '../tf/linalg';
import type { Snapshot } from './snapshot';

/**
 * EASE (Steck 2019) on the binary user-item matrix of a snapshot: B = I − P·diag(1/diag(P)), P = (XᵀX + λI)⁻¹,
 * solved with TensorFlow.js matMuls. Used as a collaborative feature of the ranker.
 */
export class EaseScorer {
  private constructor(readonly lambda: number, private readonly b: Float32Array, readonly nItems: number) {}

  static gram(s: Snapshot): Float32Array {
    const n = s.nItems;
    const g = new Float32Array(n * n);
    for (let u = 0; u < s.nUsers; u++) {
      for (let a = s.ptr[u]; a < s.ptr[u + 1]; a++) {
        const row = s.pairItem[a] * n;
        for (let b = s.ptr[u]; b < s.ptr[u + 1]; b++) g[row + s.pairItem[b]] += 1;
      }
    }
    return g;
  }

  static fit(gram: Float32Array, nItems: number, lambda: number): EaseScorer {
    const b = tf.tidy(() => {
      const g = tf.add(tf.tensor2d(gram, [nItems, nItems]), tf.mul(tf.eye(nItems), lambda)) as tf.Tensor2D;
      const p = spdInverse(g);
      const d = tf.reshape(tf.sum(tf.mul(p, tf.eye(nItems)), 1), [1, nItems]);
      return tf.sub(tf.eye(nItems), tf.div(p, d)) as tf.Tensor2D;
    });
    const values = b.dataSync() as Float32Array;
    b.dispose();
    return new EaseScorer(lambda, values, nItems);
  }

  /**
   * Scores of every item for each row, row-major [rows × nItems]; row r is the item set
   * items[ptr[r]..ptr[r+1]). Baskets are sparse, so summing rows of B beats a dense matMul by far.
   */
  score(ptr: Int32Array, items: Int32Array, weights?: Float32Array): Float32Array {
    const n = this.nItems;
    const rows = ptr.length - 1;
    const out = new Float32Array(rows * n);
    for (let r = 0; r < rows; r++) {
      const off = r * n;
      for (let p = ptr[r]; p < ptr[r + 1]; p++) {
        const src = items[p] * n;
        const w = weights ? weights[p] : 1;
        for (let j = 0; j < n; j++) out[off + j] += w * this.b[src + j];
      }
    }
    return out;
  }

  dispose(): void {
    // Plain arrays: nothing held by the backend.
  }
}
