import { initBackend, tf, useBackend, type BackendName } from '../../recommender/src/tf/backend';
import { spdInverse } from '../../recommender/src/tf/linalg';
import { Rng } from '../../recommender/src/tf/random';
import { BprMf } from '../../recommender/src/models/bpr';
import { snapshotAt } from '../../recommender/src/models/snapshot';
import type { RecsTrainSet } from '../../recommender/src/eval/types';

/** Runs `f` on the given backend and returns plain arrays, so results from two backends can be compared. */
async function on(backend: BackendName, f: () => tf.Tensor): Promise<{ shape: number[]; values: number[] }> {
  await useBackend(backend);
  const t = f();
  const out = { shape: t.shape, values: Array.from(t.dataSync()) };
  t.dispose();
  return out;
}

function expectClose(a: number[], b: number[], tolerance: number) {
  expect(a.length).toBe(b.length);
  const worst = Math.max(...a.map((v, i) => Math.abs(v - b[i])));
  expect(worst).toBeLessThan(tolerance);
}

describe('TensorFlow.js backend', () => {
  it('picks the fastest backend that loads and says which ones it skipped', async () => {
    const choice = await initBackend();
    expect(['tensorflow', 'wasm', 'cpu']).toContain(choice.backend);
    expect(tf.getBackend()).toBe(choice.backend);
    for (const s of choice.skipped) expect(s.reason.length).toBeGreaterThan(0);
    // Without the optional native binding, wasm must be the one chosen: it ships with the repository's dependencies.
    if (choice.skipped.some((s) => s.backend === 'tensorflow')) expect(choice.backend).toBe('wasm');
  });

  it('computes UnsortedSegmentSum on wasm as the cpu backend does, on random inputs', async () => {
    const rng = new Rng(3);
    for (const shape of [[50, 7], [31, 4, 3], [9]]) {
      const size = shape.reduce((a, b) => a * b, 1);
      const x = Array.from({ length: size }, () => rng.next() * 2 - 1);
      const segments = 1 + rng.int(12);
      // Includes ids outside [0, segments): TensorFlow drops those rows.
      const ids = Array.from({ length: shape[0] }, () => rng.int(segments + 2) - 1);
      const run = () => tf.unsortedSegmentSum(tf.tensor(x, shape), tf.tensor1d(ids, 'int32'), segments);
      const wasm = await on('wasm', run);
      const cpu = await on('cpu', run);
      expect(wasm.shape).toEqual([segments, ...shape.slice(1)]);
      expect(wasm.shape).toEqual(cpu.shape);
      expectClose(wasm.values, cpu.values, 1e-5);
      expect(wasm.values.some((v) => v !== 0)).toBe(true);
    }
  });

  it('gives embedding gradients (tf.grad of a gather) on wasm equal to the cpu backend', async () => {
    const rng = new Rng(5);
    const table = Array.from({ length: 40 * 6 }, () => rng.next() - 0.5);
    const indices = Array.from({ length: 64 }, () => rng.int(40));
    const weights = Array.from({ length: 64 * 6 }, () => rng.next());
    const run = () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.square(tf.gather(t, tf.tensor1d(indices, 'int32'))), tf.tensor2d(weights, [64, 6]))))(tf.tensor2d(table, [40, 6]));
    const wasm = await on('wasm', run);
    const cpu = await on('cpu', run);
    expectClose(wasm.values, cpu.values, 1e-5);
    // Rows never gathered get no gradient; a repeated row gets the sum of its uses.
    const unused = [...Array(40).keys()].find((r) => !indices.includes(r));
    if (unused !== undefined) expect(wasm.values.slice(unused * 6, unused * 6 + 6).every((v) => v === 0)).toBe(true);
  });

  it('inverts a symmetric positive-definite matrix by blocks', async () => {
    await useBackend('wasm');
    const n = 300;
    const g = tf.tidy(() => {
      const r = tf.randomUniform([n, 80], 0, 1, 'float32', 9);
      return tf.add(tf.matMul(r, tf.transpose(r)), tf.mul(tf.eye(n), 5)) as tf.Tensor2D;
    });
    const p = spdInverse(g, 64);
    const error = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.matMul(g, p), tf.eye(n)))).dataSync()[0]);
    expect(error).toBeLessThan(1e-3);
    g.dispose();
    p.dispose();
  });

  it('trains identical embeddings twice from the same seed, and different ones from another seed', async () => {
    await useBackend('wasm');
    const train = tinyTrainSet();
    const snap = snapshotAt(train, train.cutoff);
    const options = { dim: 8, epochs: 3, batchSize: 64 };
    const a = await BprMf.fit(snap, { ...options, seed: 1 });
    const b = await BprMf.fit(snap, { ...options, seed: 1 });
    const c = await BprMf.fit(snap, { ...options, seed: 2 });
    expect(Array.from(a.itemEmb)).toEqual(Array.from(b.itemEmb));
    expect(Array.from(a.userEmb)).toEqual(Array.from(b.userEmb));
    expect(Array.from(a.itemEmb)).not.toEqual(Array.from(c.itemEmb));
  });
});

function tinyTrainSet(): RecsTrainSet {
  const rng = new Rng(1);
  const n = 600;
  const user = new Int32Array(n), item = new Int32Array(n), invoice = new Int32Array(n), time = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    user[k] = rng.int(30);
    item[k] = (user[k] % 5) * 4 + rng.int(4);
    invoice[k] = k;
    time[k] = k * 3_600_000;
  }
  return {
    cutoff: n * 3_600_000, horizonDays: 7,
    users: Array.from({ length: 30 }, (_, u) => `u${u}`), items: Array.from({ length: 20 }, (_, i) => `I${String(i).padStart(2, '0')}`),
    events: { user, item, invoice, time, quantity: new Float64Array(n).fill(1), unitPrice: new Float64Array(n).fill(1) },
    invoices: Array.from({ length: n }, (_, k) => `inv${k}`), itemDescription: Array(20).fill(null),
    itemMeanPrice: new Float64Array(20).fill(1), userCountry: Array(30).fill(null),
  };
}
