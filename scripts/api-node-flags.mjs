/**
 * The V8 flags the API process runs with, wherever it is started: `npm start` (scripts/start.mjs) and the benchmarks
 * (bench/lib/api.mjs) import them; the Dockerfile's and docker-compose.yml's commands repeat them.
 *
 * --max-old-space-size=1024: V8 grows the old generation to a multiple of what survived the last full collection, up
 * to 4× when the process allocates fast, unless the heap's limit is small: on this server's 4 GB default it took the
 * limit from ~60 MB live to ~240 MB, and a quiet hot-path benchmark ended at 331 MB resident (issue 18). A 1 GB limit,
 * 16 times the API's live heap, caps that multiple at 1.6 (V8's heap controller scales it between 256 MB and 2 GB
 * limits), so garbage is collected at ~100 MB instead (docs/operations/benchmarks.md, "Lock hold and memory").
 */
export const API_NODE_FLAGS = ['--max-old-space-size=1024'];
