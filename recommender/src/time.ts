/** Durations in milliseconds, said once for the worker (it does not import the API, which has its own). */
export const DAY_MS = 86_400_000;
