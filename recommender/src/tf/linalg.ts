import * as tf from '@tensorflow/tfjs-core';

/**
 * Inverse of a symmetric positive-definite matrix by recursive block inversion (Schur complement), so the work is
 * matMuls on the active backend (never with transpose flags: wasm runs those ~15× slower); small blocks are inverted by Gauss-Jordan in float64.
 */
export function spdInverse(m: tf.Tensor2D, leaf = 256): tf.Tensor2D {
  const n = m.shape[0];
  if (n <= leaf) return smallInverse(m);
  return tf.tidy(() => {
    const h = Math.floor(n / 2);
    const { a, b, d } = quarters(m, h);
    const ai = spdInverse(a, leaf);
    const x = tf.matMul(ai, b); // A⁻¹B
    const s = tf.sub(d, tf.matMul(tf.transpose(b), x)) as tf.Tensor2D;
    const si = spdInverse(symmetrise(s), leaf);
    const xsi = tf.matMul(x, si);
    const topLeft = tf.add(ai, tf.matMul(xsi, tf.transpose(x)));
    const topRight = tf.neg(xsi);
    const top = tf.concat([topLeft, topRight], 1);
    const bottom = tf.concat([tf.transpose(topRight), si], 1);
    return symmetrise(tf.concat([top, bottom], 0) as tf.Tensor2D);
  });
}

/**
 * The four blocks of a square matrix split at row and column h, from one read of it: the wasm backend's slice kernel
 * copies the whole input out of wasm memory on every call, so four tf.slice calls cost four full copies.
 */
export function quarters(m: tf.Tensor2D, h: number): { a: tf.Tensor2D; b: tf.Tensor2D; c: tf.Tensor2D; d: tf.Tensor2D } {
  const n = m.shape[0];
  const v = m.dataSync() as Float32Array;
  const block = (row: number, col: number, rows: number, cols: number) => {
    const out = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) out.set(v.subarray((row + r) * n + col, (row + r) * n + col + cols), r * cols);
    return tf.tensor2d(out, [rows, cols]);
  };
  return { a: block(0, 0, h, h), b: block(0, h, h, n - h), c: block(h, 0, n - h, h), d: block(h, h, n - h, n - h) };
}

function symmetrise(m: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.add(m, tf.transpose(m)), 0.5) as tf.Tensor2D);
}

function smallInverse(m: tf.Tensor2D): tf.Tensor2D {
  const n = m.shape[0];
  const src = m.dataSync();
  const a = Float64Array.from(src);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]) > Math.abs(a[p * n + c])) p = r;
    if (p !== c) {
      for (let k = 0; k < n; k++) {
        let t = a[c * n + k]; a[c * n + k] = a[p * n + k]; a[p * n + k] = t;
        t = inv[c * n + k]; inv[c * n + k] = inv[p * n + k]; inv[p * n + k] = t;
      }
    }
    const pivot = a[c * n + c];
    if (pivot === 0) throw new Error('spdInverse: singular matrix');
    for (let k = 0; k < n; k++) { a[c * n + k] /= pivot; inv[c * n + k] /= pivot; }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r * n + c];
      if (f === 0) continue;
      for (let k = 0; k < n; k++) { a[r * n + k] -= f * a[c * n + k]; inv[r * n + k] -= f * inv[c * n + k]; }
    }
  }
  return tf.tensor2d(Float32Array.from(inv), [n, n]);
}
