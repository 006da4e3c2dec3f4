import type { FitHooks, HasItemEmbeddings, HasParams, RecsModel, RecsTrainSet, ReusesChoice } from '../eval/types';
import { initBackend, tf } from '../tf/backend';
import { Rng } from '../tf/random';
import { BprMf, BPR_DEFAULTS, type BprOptions } from './bpr';
import { EaseScorer } from './ease';
import { CANDIDATE_DEFAULTS, F, candidateBlock, rowsOf, type CandidateBlock, type CandidateOptions } from './recs-features';
import { boughtBetween, snapshotAt, type Snapshot } from './snapshot';
import { DAY_MS } from '../time';

export interface HybridOptions {
  /** EASE regularisation grid, picked by NDCG@10 on new items in the inner split. */
  lambdas: number[];
  bpr: Partial<BprOptions>;
  candidates: CandidateOptions;
  hidden: number;
  epochs: number;
  usersPerBatch: number;
  learningRate: number;
  /** Inner splits stacked for training the ranker (the first also picks λ). */
  innerSplits: number;
  /** Share of inner-split users held out for early stopping. */
  validationShare: number;
  seed: number;
  log?: (event: string, fields: Record<string, unknown>) => void;
}

export const HYBRID_DEFAULTS: HybridOptions = {
  lambdas: [50, 200, 800],
  bpr: BPR_DEFAULTS,
  candidates: CANDIDATE_DEFAULTS,
  hidden: 32,
  epochs: 30,
  usersPerBatch: 128,
  learningRate: 0.01,
  innerSplits: 1,
  validationShare: 0.2,
  seed: 42,
};

interface Net {
  mean: Float32Array;
  std: Float32Array;
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  lin: Float32Array;
  b2: number;
}

/**
 * TF-HYBRID: a TensorFlow.js ranker (small MLP, listwise softmax loss) over per-(user, item) features — the user's
 * repeat-purchase history of the item, item popularity and age, EASE scores from the whole history and from the
 * last basket, and a BPR matrix factorisation — learned on an inner temporal split (features at cutoff − horizon,
 * labels from [cutoff − horizon, cutoff)) and applied to features at the cutoff. The loss has a second softmax over
 * unbought candidates only, so the ranking of never-bought items is learned in its own right.
 */
export class HybridRecommender implements RecsModel, HasItemEmbeddings, HasParams, ReusesChoice<HybridRecommender> {
  readonly name = 'TF-HYBRID';
  readonly kind = 'model' as const;
  private readonly o: HybridOptions;
  private snapshot: Snapshot;
  private ease: EaseScorer;
  private bpr: BprMf;
  /** Ranks all candidates (view all); `netNew` re-orders the unbought ones among themselves. */
  private net: Net;
  private netNew: Net;
  private items: string[];
  /** What fit chose and measured, for the model registry. */
  info: Record<string, unknown> = {};

  constructor(options: Partial<HybridOptions> = {}) {
    this.o = { ...HYBRID_DEFAULTS, ...options };
  }

  params(): Record<string, unknown> {
    return this.info;
  }

  /** A model that fits with the λ the last fit chose on its inner split, without trying the others (the serving refit). */
  withSameChoice(): HybridRecommender {
    if (typeof this.info.lambda !== 'number') throw new Error('TF-HYBRID has not been fitted');
    return new HybridRecommender({ ...this.o, lambdas: [this.info.lambda] });
  }

  async fit(train: RecsTrainSet, hooks: FitHooks = {}): Promise<void> {
    const { backend } = await initBackend();
    const log = this.o.log ?? (() => {});
    const cap = (epochs: number) => Math.min(epochs, hooks.maxEpochs ?? epochs);
    const bprOptions = { ...BPR_DEFAULTS, ...this.o.bpr };
    bprOptions.epochs = cap(bprOptions.epochs);
    const o = { ...this.o, epochs: cap(this.o.epochs) };
    // Progress: the two BPR fits and the two ranker fits, as one epoch count.
    const total = (1 + this.o.innerSplits) * bprOptions.epochs + 2 * o.epochs;
    let done = 0;
    const progress = async (_epoch: number, loss: number) => {
      done++;
      await hooks.onEpoch?.(done, total, loss);
    };
    const rng = new Rng(this.o.seed);
    const inner = train.cutoff - train.horizonDays * DAY_MS;
    this.items = train.items;

    const snapIn = snapshotAt(train, inner);
    const labels = boughtBetween(train, inner, train.cutoff);
    const innerUsers = Int32Array.from([...labels.keys()].filter((u) => snapIn.ptr[u + 1] > snapIn.ptr[u]).sort((a, b) => a - b));
    const gramIn = EaseScorer.gram(snapIn);
    let best: { lambda: number; ndcg: number; ease: EaseScorer } | null = null;
    for (const lambda of this.o.lambdas) {
      const ease = EaseScorer.fit(gramIn, snapIn.nItems, lambda);
      // One λ has nothing to be chosen against: its inner-split score would only be logged.
      const ndcg = this.o.lambdas.length > 1 ? easeNewNdcg(snapIn, ease, innerUsers, labels) : NaN;
      log('tf-hybrid.ease', { lambda, innerNdcgNew: ndcg });
      if (!best || ndcg > best.ndcg) {
        best?.ease.dispose();
        best = { lambda, ndcg, ease };
      } else ease.dispose();
    }
    const blocks: CandidateBlock[] = [];
    const gts: Set<number>[] = [];
    const addSplit = async (snap: Snapshot, ease: EaseScorer, users: Int32Array, gt: Map<number, Set<number>>) => {
      const bpr = await BprMf.fit(snap, { ...bprOptions, seed: rng.seed() }, progress);
      blocks.push(candidateBlock(snap, ease, bpr, users, this.o.candidates));
      users.forEach((u) => gts.push(gt.get(u)!));
    };
    await addSplit(snapIn, best!.ease, innerUsers, labels);
    best!.ease.dispose();
    // Older splits (one horizon further back each) add training examples with the λ chosen above.
    for (let k = 1; k < this.o.innerSplits; k++) {
      const at = inner - k * train.horizonDays * DAY_MS;
      const snap = snapshotAt(train, at);
      const gt = boughtBetween(train, at, at + train.horizonDays * DAY_MS);
      const users = Int32Array.from([...gt.keys()].filter((u) => snap.ptr[u + 1] > snap.ptr[u]).sort((a, b) => a - b));
      if (users.length < 20) break;
      const ease = EaseScorer.fit(EaseScorer.gram(snap), snap.nItems, best!.lambda);
      await addSplit(snap, ease, users, gt);
    }
    const block = mergeBlocks(blocks);

    const isVal = block.users.map(() => (rng.next() < this.o.validationShare ? 1 : 0));
    this.net = await trainRanker(block, gts, isVal, 'all', o, rng, log, progress);
    this.netNew = await trainRanker(block, gts, isVal, 'new', o, rng, log, progress);

    this.snapshot = snapshotAt(train, train.cutoff);
    this.ease = EaseScorer.fit(EaseScorer.gram(this.snapshot), this.snapshot.nItems, best!.lambda);
    this.bpr = await BprMf.fit(this.snapshot, { ...bprOptions, seed: rng.seed() }, progress);
    this.info = { backend, lambda: best!.lambda, trainingUsers: block.users.length, trainingCandidates: block.item.length };
  }

  score(users: Int32Array): Float32Array {
    const n = this.items.length;
    const out = new Float32Array(users.length * n);
    const chunk = 256;
    for (let start = 0; start < users.length; start += chunk) {
      const part = users.subarray(start, Math.min(users.length, start + chunk));
      const block = candidateBlock(this.snapshot, this.ease, this.bpr, part, this.o.candidates);
      const s = applyNet(this.net, block.x, block.item.length);
      const sNew = applyNet(this.netNew, block.x, block.item.length);
      for (let r = 0; r < part.length; r++) {
        const off = (start + r) * n;
        // Items outside the candidates rank below them, by EASE score.
        for (let i = 0; i < n; i++) out[off + i] = -1e4 + block.ease[r * n + i];
        const unbought: number[] = [];
        for (let k = block.rowStart[r]; k < block.rowStart[r + 1]; k++) {
          if (block.bought[k]) out[off + block.item[k]] = s[k];
          else unbought.push(k);
        }
        // Unbought candidates keep the scores the first net gave them as a set (their places among bought items),
        // but in the order of the net trained on new items only.
        const levels = unbought.map((k) => s[k]).sort((a, b) => b - a);
        unbought.sort((a, b) => sNew[b] - sNew[a] || block.item[a] - block.item[b]);
        unbought.forEach((k, q) => (out[off + block.item[k]] = levels[q]));
      }
    }
    return out;
  }

  /** Closest items by BPR item embedding (cosine), for product.similarProducts. */
  similarItems(items: Int32Array, k: number) {
    return this.bpr.similarItems(items, k);
  }

  itemEmbeddings(): { dim: number; vectors: Float32Array } {
    return { dim: this.bpr.dim, vectors: this.bpr.itemEmb };
  }
}

function mergeBlocks(blocks: CandidateBlock[]): CandidateBlock {
  if (blocks.length === 1) return blocks[0];
  const cat = <T extends Int32Array | Uint8Array | Float32Array>(parts: T[], make: (n: number) => T): T => {
    const out = make(parts.reduce((a, p) => a + p.length, 0));
    let off = 0;
    for (const p of parts) { out.set(p as never, off); off += p.length; }
    return out;
  };
  const rowStart = new Int32Array(blocks.reduce((a, b) => a + b.users.length, 0) + 1);
  let u = 0, rows = 0;
  for (const b of blocks) {
    for (let k = 0; k < b.users.length; k++) rowStart[u + k + 1] = rows + b.rowStart[k + 1];
    u += b.users.length;
    rows += b.item.length;
  }
  return {
    users: cat(blocks.map((b) => b.users), (n) => new Int32Array(n)),
    rowStart,
    item: cat(blocks.map((b) => b.item), (n) => new Int32Array(n)),
    bought: cat(blocks.map((b) => b.bought), (n) => new Uint8Array(n)),
    x: cat(blocks.map((b) => b.x), (n) => new Float32Array(n)),
    ease: new Float32Array(0),
  };
}

function easeNewNdcg(s: Snapshot, ease: EaseScorer, users: Int32Array, labels: Map<number, Set<number>>): number {
  const n = s.nItems;
  let total = 0, count = 0;
  for (let start = 0; start < users.length; start += 512) {
    const part = users.subarray(start, Math.min(users.length, start + 512));
    const sc = ease.score(...rowsOf(s.ptr, s.pairItem, part));
    part.forEach((u, r) => {
      const owned = new Set<number>();
      for (let p = s.ptr[u]; p < s.ptr[u + 1]; p++) owned.add(s.pairItem[p]);
      const gt = [...labels.get(u)!].filter((i) => !owned.has(i));
      if (!gt.length) return;
      const ranked: number[] = [];
      for (let i = 0; i < n; i++) if (!owned.has(i)) ranked.push(i);
      const row = sc.subarray(r * n, (r + 1) * n);
      total += ndcgAt10(top10(ranked, row), new Set(gt));
      count++;
    });
  }
  return count ? total / count : 0;
}

function top10(candidates: number[], score: ArrayLike<number>): number[] {
  const best: number[] = [];
  for (const i of candidates) {
    if (best.length === 10 && score[i] <= score[best[9]]) continue;
    let k = best.length === 10 ? 9 : best.length;
    best[k] = i;
    while (k > 0 && score[best[k]] > score[best[k - 1]]) { [best[k], best[k - 1]] = [best[k - 1], best[k]]; k--; }
  }
  return best;
}

function ndcgAt10(ranked: number[], gt: Set<number>): number {
  let dcg = 0, idcg = 0;
  ranked.forEach((i, r) => { if (gt.has(i)) dcg += 1 / Math.log2(r + 2); });
  for (let r = 0; r < Math.min(10, gt.size); r++) idcg += 1 / Math.log2(r + 2);
  return idcg ? dcg / idcg : 0;
}

async function trainRanker(
  block: CandidateBlock, gts: Set<number>[], isVal: Int32Array, view: 'all' | 'new', o: HybridOptions, rng: Rng,
  log: (event: string, fields: Record<string, unknown>) => void,
  progress: (epoch: number, loss: number) => Promise<void>,
): Promise<Net> {
  const rows = block.item.length;
  const mean = new Float32Array(F), std = new Float32Array(F);
  for (let r = 0; r < rows; r++) for (let f = 0; f < F; f++) mean[f] += block.x[r * F + f] / rows;
  for (let r = 0; r < rows; r++) for (let f = 0; f < F; f++) std[f] += (block.x[r * F + f] - mean[f]) ** 2 / rows;
  for (let f = 0; f < F; f++) std[f] = Math.sqrt(std[f]) || 1;
  const xs = new Float32Array(rows * F);
  for (let r = 0; r < rows; r++) for (let f = 0; f < F; f++) xs[r * F + f] = (block.x[r * F + f] - mean[f]) / std[f];
  const positive = new Uint8Array(rows);
  for (let k = 0; k < block.users.length; k++) {
    const gt = gts[k];
    for (let r = block.rowStart[k]; r < block.rowStart[k + 1]; r++) positive[r] = gt.has(block.item[r]) ? 1 : 0;
  }
  const trainUsers: number[] = [], valUsers: number[] = [];
  block.users.forEach((_, k) => (isVal[k] ? valUsers : trainUsers).push(k));

  const w1 = tf.variable(tf.randomNormal([F, o.hidden], 0, Math.sqrt(2 / F), 'float32', rng.seed()));
  const b1 = tf.variable(tf.zeros([o.hidden]));
  const w2 = tf.variable(tf.randomNormal([o.hidden, 1], 0, Math.sqrt(1 / o.hidden), 'float32', rng.seed()));
  const lin = tf.variable(tf.zeros([F, 1]));
  const b2 = tf.variable(tf.zeros([1]));
  const optimizer = tf.train.adam(o.learningRate);
  const snapshotNet = (): Net => ({
    mean, std, w1: w1.dataSync() as Float32Array, b1: b1.dataSync() as Float32Array, w2: w2.dataSync() as Float32Array,
    lin: lin.dataSync() as Float32Array, b2: b2.dataSync()[0],
  });
  let best = { score: -1, epoch: -1, net: snapshotNet() };
  const order = Int32Array.from(trainUsers);
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    rng.shuffle(order);
    let lossSum = 0, steps = 0;
    for (let start = 0; start < order.length; start += o.usersPerBatch) {
      const batch = Array.from(order.subarray(start, start + o.usersPerBatch));
      const lossT = tf.tidy(() => {
        const { x, seg, posW, userW, newIdx, newSeg, newPosW, newUserW } = batchTensors(block, xs, positive, batch);
        return optimizer.minimize(() => {
          const h = tf.relu(tf.add(tf.matMul(x, w1), b1));
          const s = tf.clipByValue(tf.reshape(tf.add(tf.add(tf.matMul(h, w2), tf.matMul(x, lin)), b2), [-1]), -30, 30);
          const sNew = tf.gather(s, newIdx);
          const lossNew = listwise(sNew, newSeg, newPosW, newUserW, batch.length);
          return (view === 'new' ? lossNew : tf.add(listwise(s, seg, posW, userW, batch.length), lossNew)) as tf.Scalar;
        }, true) as tf.Scalar;
      });
      lossSum += lossT.dataSync()[0];
      steps++;
      lossT.dispose();
    }
    await progress(epoch, lossSum / Math.max(1, steps));
    const net = snapshotNet();
    const val = validationNdcg(net, block, gts, valUsers);
    log('tf-hybrid.epoch', { view, epoch, valNdcgAll: val.all, valNdcgNew: val.new });
    const score = view === 'all' ? val.all : val.new;
    if (score > best.score) best = { score, epoch, net };
    else if (epoch - best.epoch >= 5) {
      // Early stop: the remaining epochs count as done for progress.
      for (let e = epoch + 1; e < o.epochs; e++) await progress(e, lossSum / Math.max(1, steps));
      break;
    }
    await new Promise((r) => setImmediate(r));
  }
  [w1, b1, w2, lin, b2].forEach((v) => v.dispose());
  optimizer.dispose();
  return best.net;
}

/** Σ over users of weight × (log Σ exp(s) over the user's rows − mean s over the user's positives). */
function listwise(s: tf.Tensor, seg: tf.Tensor, posW: tf.Tensor, userW: tf.Tensor, nUsers: number): tf.Scalar {
  const z = tf.log(tf.add(tf.unsortedSegmentSum(tf.exp(s), seg as tf.Tensor1D, nUsers), 1e-12));
  return tf.sub(tf.sum(tf.mul(z, userW)), tf.sum(tf.mul(s, posW))) as tf.Scalar;
}

function batchTensors(block: CandidateBlock, xs: Float32Array, positive: Uint8Array, batch: number[]) {
  let n = 0;
  for (const k of batch) n += block.rowStart[k + 1] - block.rowStart[k];
  const x = new Float32Array(n * F), seg = new Int32Array(n), posW = new Float32Array(n);
  const userW = new Float32Array(batch.length), newUserW = new Float32Array(batch.length);
  const newIdx: number[] = [], newSeg: number[] = [], newPosRows: number[] = [];
  let usersAll = 0, usersNew = 0;
  let r = 0;
  const newPosCount = new Int32Array(batch.length);
  batch.forEach((k, b) => {
    const from = block.rowStart[k], to = block.rowStart[k + 1];
    x.set(xs.subarray(from * F, to * F), r * F);
    let pos = 0;
    for (let q = from; q < to; q++) pos += positive[q];
    for (let q = from; q < to; q++, r++) {
      seg[r] = b;
      if (positive[q]) posW[r] = 1 / pos;
      if (!block.bought[q]) {
        newIdx.push(r);
        newSeg.push(b);
        if (positive[q]) { newPosRows.push(newIdx.length - 1); newPosCount[b]++; }
      }
    }
    if (pos) { userW[b] = 1; usersAll++; }
    if (newPosCount[b]) { newUserW[b] = 1; usersNew++; }
  });
  for (let q = 0; q < n; q++) posW[q] /= Math.max(1, usersAll);
  userW.forEach((v, b) => (userW[b] = v / Math.max(1, usersAll)));
  const newPosW = new Float32Array(newIdx.length);
  for (const q of newPosRows) newPosW[q] = 1 / newPosCount[newSeg[q]] / Math.max(1, usersNew);
  newUserW.forEach((v, b) => (newUserW[b] = v / Math.max(1, usersNew)));
  return {
    x: tf.tensor2d(x, [n, F]), seg: tf.tensor1d(seg, 'int32'), posW: tf.tensor1d(posW), userW: tf.tensor1d(userW),
    newIdx: tf.tensor1d(Int32Array.from(newIdx), 'int32'), newSeg: tf.tensor1d(Int32Array.from(newSeg), 'int32'),
    newPosW: tf.tensor1d(newPosW), newUserW: tf.tensor1d(newUserW),
  };
}

function applyNet(net: Net, raw: Float32Array, rows: number): Float32Array {
  return tf.tidy(() => {
    const x = tf.div(tf.sub(tf.tensor2d(raw, [rows, F]), tf.tensor1d(net.mean)), tf.tensor1d(net.std));
    const h = tf.relu(tf.add(tf.matMul(x, tf.tensor2d(net.w1, [F, net.b1.length])), tf.tensor1d(net.b1)));
    const s = tf.add(tf.add(tf.matMul(h, tf.tensor2d(net.w2, [net.b1.length, 1])), tf.matMul(x, tf.tensor2d(net.lin, [F, 1]))), net.b2);
    return tf.reshape(s, [-1]).dataSync() as Float32Array;
  });
}

function validationNdcg(net: Net, block: CandidateBlock, gts: Set<number>[], valUsers: number[]) {
  let all = 0, fresh = 0, nAll = 0, nNew = 0;
  const rowsOf = (k: number) => [block.rowStart[k], block.rowStart[k + 1]] as const;
  for (const k of valUsers) {
    const [from, to] = rowsOf(k);
    const s = applyNet(net, block.x.subarray(from * F, to * F), to - from);
    const gt = gts[k];
    const local = Array.from({ length: to - from }, (_, q) => q);
    const itemsOf = (qs: number[]) => qs.map((q) => block.item[from + q]);
    all += ndcgAt10(itemsOf(top10(local, s)), gt);
    nAll++;
    const ownedItems = new Set<number>();
    for (let q = from; q < to; q++) if (block.bought[q]) ownedItems.add(block.item[q]);
    const gtNew = new Set([...gt].filter((i) => !ownedItems.has(i)));
    if (gtNew.size) {
      fresh += ndcgAt10(itemsOf(top10(local.filter((q) => !block.bought[from + q]), s)), gtNew);
      nNew++;
    }
  }
  return { all: nAll ? all / nAll : 0, new: nNew ? fresh / nNew : 0 };
}
