import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { quarters } from '../tf/linalg';
import { spdInverse } from './linalg';

/**
 * Float32 inverse of a symmetric positive-definite matrix on the TensorFlow.js backend in use (wasm or native),
 * by recursive block inversion: three matMuls per level (none with a transpose flag, which is slow on wasm). Blocks up to
 * `leaf` are inverted in float64 by spdInverse. For searches where float32 is enough (EASE's λ), not for the
 * final model. Returns null when no fast backend is available, so the caller falls back to float64 in JS.
 */
export async function fastSpdInverse(g: Float64Array, n: number, leaf = 384): Promise<Float32Array | null> {
  if (!(await fastBackend())) return null;
  const m = tf.tensor2d(Float32Array.from(g), [n, n]);
  try {
    const inv = blockInverse(m, leaf);
    const out = (await inv.data()) as Float32Array;
    inv.dispose();
    return out;
  } finally {
    m.dispose();
  }
}

function blockInverse(m: tf.Tensor2D, leaf: number): tf.Tensor2D {
  const n = m.shape[0];
  if (n <= leaf) {
    const p = spdInverse(Float64Array.from(m.dataSync()), n);
    return tf.tensor2d(Float32Array.from(p), [n, n]);
  }
  return tf.tidy(() => {
    const h = n >> 1;
    const { a, b, c, d } = quarters(m, h);
    const ai = blockInverse(a, leaf);
    const x = tf.matMul(ai, b); // A⁻¹B
    const z = tf.transpose(x); // CA⁻¹, as C = Bᵀ and A⁻¹ is symmetric
    const si = blockInverse(tf.sub(d, tf.matMul(c, x)), leaf); // Schur complement D − CA⁻¹B
    const topRight = tf.neg(tf.matMul(x, si));
    const bottomLeft = tf.transpose(topRight);
    const topLeft = tf.sub(ai, tf.matMul(topRight, z));
    return tf.concat([tf.concat([topLeft, topRight], 1), tf.concat([bottomLeft, si], 1)], 0) as tf.Tensor2D;
  });
}

let ready: Promise<boolean> | undefined;

/** A backend with fast matMul: native or wasm as already chosen, else wasm if it loads; never the JS cpu backend. */
function fastBackend(): Promise<boolean> {
  ready ??= (async () => {
    await tf.ready().catch(() => undefined);
    const current = tf.getBackend();
    if (current === 'tensorflow' || current === 'wasm') return true;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
      wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep);
      if (!(await tf.setBackend('wasm'))) return false;
      await tf.ready();
      return true;
    } catch {
      return false;
    }
  })();
  return ready;
}
