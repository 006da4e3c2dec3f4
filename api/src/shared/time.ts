/** Durations in milliseconds, said once for the API (the recommender has its own: recommender/src/time.ts). */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
