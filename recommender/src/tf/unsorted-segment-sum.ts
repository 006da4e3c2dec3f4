import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * `UnsortedSegmentSum` for the wasm backend, which ships without it; tf.grad of a gather (embedding lookups) needs it.
 * Computed in JS on the wasm heap: one pass over the rows, ids outside [0, numSegments) are dropped as in TensorFlow.
 */
export function unsortedSegmentSumWasm({ inputs, backend, attrs }: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const wasm = backend as BackendWasm;
  const { x, segmentIds } = inputs as unknown as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = (attrs as unknown as { numSegments: number }).numSegments;
  const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const inner = innerShape.reduce((a, b) => a * b, 1);
  const xs = wasm.readSync(x.dataId) as tf.TypedArray;
  const ids = wasm.readSync(segmentIds.dataId) as tf.TypedArray;
  const out = wasm.makeOutput([numSegments, ...innerShape], x.dtype);
  const values = wasm.typedArrayFromHeap(out);
  values.fill(0);
  for (let r = 0; r < rows; r++) {
    const s = ids[r];
    if (s < 0 || s >= numSegments) continue;
    const src = r * inner;
    const dst = s * inner;
    for (let k = 0; k < inner; k++) values[dst + k] += xs[src + k];
  }
  return out;
}

export const unsortedSegmentSumWasmConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSumWasm as unknown as tf.KernelFunc,
};
