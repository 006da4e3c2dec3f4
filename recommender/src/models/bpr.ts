import { tf } from '../tf/backend';
import { Rng } from '../tf/random';
import type { Snapshot } from './snapshot';

export interface BprOptions {
  dim: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  l2: number;
  seed: number;
}

export const BPR_DEFAULTS: BprOptions = { dim: 32, epochs: 12, batchSize: 4096, learningRate: 0.02, l2: 1e-4, seed: 7 };

/** Matrix factorisation trained with BPR (one uniformly sampled unbought item per bought pair) in TensorFlow.js. */
export class BprMf {
  private constructor(
    readonly userEmb: Float32Array,
    readonly itemEmb: Float32Array,
    readonly itemBias: Float32Array,
    readonly dim: number,
    readonly nItems: number,
  ) {}

  static async fit(s: Snapshot, options: Partial<BprOptions> = {}, onEpoch?: (epoch: number, loss: number) => void | Promise<void>): Promise<BprMf> {
    const o = { ...BPR_DEFAULTS, ...options };
    const rng = new Rng(o.seed);
    const nPairs = s.ptr[s.nUsers];
    const pairUser = new Int32Array(nPairs);
    for (let u = 0; u < s.nUsers; u++) pairUser.fill(u, s.ptr[u], s.ptr[u + 1]);
    const owned = new Set<number>();
    for (let p = 0; p < nPairs; p++) owned.add(pairUser[p] * s.nItems + s.pairItem[p]);

    const U = tf.variable(tf.randomNormal([s.nUsers, o.dim], 0, 0.05, 'float32', rng.seed()));
    const V = tf.variable(tf.randomNormal([s.nItems, o.dim], 0, 0.05, 'float32', rng.seed()));
    const bias = tf.variable(tf.zeros([s.nItems]));
    const optimizer = tf.train.adam(o.learningRate);
    const order = Int32Array.from({ length: nPairs }, (_, k) => k);
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      rng.shuffle(order);
      let total = 0;
      let batches = 0;
      for (let start = 0; start < nPairs; start += o.batchSize) {
        const end = Math.min(nPairs, start + o.batchSize);
        const ub = new Int32Array(end - start), ib = new Int32Array(end - start), jb = new Int32Array(end - start);
        for (let k = start; k < end; k++) {
          const p = order[k];
          const u = pairUser[p];
          let j = rng.int(s.nItems);
          for (let tries = 0; tries < 20 && owned.has(u * s.nItems + j); tries++) j = rng.int(s.nItems);
          ub[k - start] = u; ib[k - start] = s.pairItem[p]; jb[k - start] = j;
        }
        const cost = tf.tidy((): tf.Scalar => {
          const ut = tf.tensor1d(ub, 'int32'), it = tf.tensor1d(ib, 'int32'), jt = tf.tensor1d(jb, 'int32');
          return optimizer.minimize(() => {
            const eu = tf.gather(U, ut), ei = tf.gather(V, it), ej = tf.gather(V, jt);
            const x = tf.add(tf.sum(tf.mul(eu, tf.sub(ei, ej)), 1), tf.sub(tf.gather(bias, it), tf.gather(bias, jt)));
            const reg = tf.mul(o.l2, tf.add(tf.sum(tf.square(eu)), tf.add(tf.sum(tf.square(ei)), tf.sum(tf.square(ej)))));
            // log σ(x) = −softplus(−x); tf.logSigmoid's custom gradient breaks inside optimizer.minimize.
            return tf.add(tf.mean(tf.softplus(tf.neg(x))), tf.div(reg, end - start)) as tf.Scalar;
          }, true) as tf.Scalar;
        });
        total += (await cost.data())[0];
        cost.dispose();
        batches++;
      }
      await onEpoch?.(epoch, total / batches);
    }
    const model = new BprMf(U.dataSync() as Float32Array, V.dataSync() as Float32Array, bias.dataSync() as Float32Array, o.dim, s.nItems);
    U.dispose(); V.dispose(); bias.dispose(); optimizer.dispose();
    return model;
  }

  /** Scores of every item for each user, row-major [users × nItems] (small: plain JS beats tensor set-up). */
  score(users: Int32Array): Float32Array {
    const d = this.dim, n = this.nItems;
    const out = new Float32Array(users.length * n);
    users.forEach((u, r) => {
      const ue = this.userEmb.subarray(u * d, (u + 1) * d);
      for (let i = 0; i < n; i++) {
        let dot = this.itemBias[i];
        for (let k = 0; k < d; k++) dot += ue[k] * this.itemEmb[i * d + k];
        out[r * n + i] = dot;
      }
    });
    return out;
  }

  /** The k items whose embeddings are closest (cosine) to each given item, best first. */
  similarItems(items: Int32Array, k: number): { item: number; similar: Int32Array; scores: Float32Array }[] {
    const d = this.dim;
    const sims = tf.tidy(() => {
      const all = tf.tensor2d(this.itemEmb, [this.nItems, d]);
      const unit = tf.div(all, tf.add(tf.norm(all, 'euclidean', 1, true), 1e-9));
      const q = tf.gather(unit, tf.tensor1d(items, 'int32'));
      return tf.matMul(q, tf.transpose(unit)).dataSync() as Float32Array;
    });
    return Array.from(items, (item, r) => {
      const row = sims.subarray(r * this.nItems, (r + 1) * this.nItems);
      const idx = Array.from({ length: this.nItems }, (_, j) => j).filter((j) => j !== item);
      idx.sort((a, b) => row[b] - row[a] || a - b);
      const top = idx.slice(0, k);
      return { item, similar: Int32Array.from(top), scores: Float32Array.from(top, (j) => row[j]) };
    });
  }
}
