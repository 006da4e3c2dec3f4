/**
 * The job contracts the API (producer) and the recommender worker (consumer) share: queue names, payload types and
 * their versions, the queue connection (Bull/ioredis options, the hash-tagged prefix for Redis Cluster) and the
 * repeatable-job schedules. Imports neither app.
 */
export * from './payloads';
export * from './queue-connection';
export * from './schedules';
