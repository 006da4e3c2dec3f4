/** Durations in milliseconds, said once for the API (the recommender has its own: recommender/src/time.ts). */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/**
 * What time it is for the services that stamp a use case's moment (when points are earned, an order claimed, a return
 * recorded). Given to them at composition: the real time by default; a test can run the API "at" a moment of its choice.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
