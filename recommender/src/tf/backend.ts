import path from 'node:path';
// The union package, not tfjs-core alone: only its Node bundle registers the gradients (and the cpu backend).
import * as tf from '@tensorflow/tfjs';
import { unsortedSegmentSumWasmConfig } from './unsorted-segment-sum';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendChoice {
  backend: BackendName;
  /** Why faster backends were skipped, for the log line. */
  skipped: { backend: BackendName; reason: string }[];
}

let current: Promise<BackendChoice> | null = null;

/**
 * Picks the fastest TensorFlow.js backend that loads: tfjs-node (native, optional dependency), else wasm with its
 * .wasm files read from node_modules (nothing fetched), else the pure-JS cpu backend. Idempotent; `prefer` forces a
 * backend (tests compare wasm and cpu) and fails if that one cannot load.
 */
export function initBackend(options: { prefer?: BackendName; log?: (choice: BackendChoice) => void } = {}): Promise<BackendChoice> {
  if (options.prefer) return useBackend(options.prefer).then((choice) => (options.log?.(choice), choice));
  if (!current) current = chooseBackend();
  return current.then((choice) => (options.log?.(choice), choice));
}

/** Switches to `name` (loading it first); throws when that backend is unavailable. */
export async function useBackend(name: BackendName): Promise<BackendChoice> {
  const error = await loadBackend(name);
  if (error) throw new Error(`TensorFlow.js backend ${name} unavailable: ${error}`);
  if (!(await tf.setBackend(name))) throw new Error(`TensorFlow.js backend ${name} failed to initialise`);
  await tf.ready();
  return { backend: name, skipped: [] };
}

async function chooseBackend(): Promise<BackendChoice> {
  const skipped: BackendChoice['skipped'] = [];
  for (const name of ['tensorflow', 'wasm', 'cpu'] as const) {
    const error = await loadBackend(name);
    if (!error && (await tf.setBackend(name).catch(() => false))) {
      await tf.ready();
      return { backend: name, skipped };
    }
    skipped.push({ backend: name, reason: error ?? 'setBackend failed' });
  }
  throw new Error('no TensorFlow.js backend could be initialised');
}

/** Registers the backend with tfjs-core; returns an error message instead of throwing. */
async function loadBackend(name: BackendName): Promise<string | null> {
  if (tf.findBackendFactory(name)) {
    // Another module may have registered wasm without the kernels training needs.
    if (name === 'wasm') registerWasmKernels();
    return null;
  }
  try {
    if (name === 'tensorflow') {
      // Optional native binding: absent or without its prebuilt binary offline, so only a guarded require.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('@tensorflow/tfjs-node');
      return tf.findBackendFactory('tensorflow') ? null : 'tfjs-node loaded but registered no backend';
    }
    if (name === 'wasm') {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
      const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
      wasm.setWasmPaths(dist + path.sep);
      registerWasmKernels();
      return tf.findBackendFactory('wasm') ? null : 'tfjs-backend-wasm registered no backend';
    }
    return tf.findBackendFactory('cpu') ? null : 'tfjs-backend-cpu registered no backend';
  } catch (err) {
    return err instanceof Error ? err.message.split('\n')[0] : String(err);
  }
}

/** Kernels the wasm backend lacks but training needs. */
export function registerWasmKernels(): void {
  if (!tf.getKernel(unsortedSegmentSumWasmConfig.kernelName, 'wasm')) tf.registerKernel(unsortedSegmentSumWasmConfig);
}

export { tf };
