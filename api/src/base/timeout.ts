import { AppError } from './errors';

/** Rejects with "<what> timed out" after `ms`; the timer never keeps the process alive and is cleared once settled. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms);
    timer.unref();
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/**
 * ioredis keeps retrying while Redis is away: a caller gets SERVICE_UNAVAILABLE (dependency redis) after `ms`, or at
 * once if the queue call fails, instead of waiting.
 */
export async function unavailableUnlessRedisAnswers<T>(work: () => Promise<T>, ms: number, message: string): Promise<T> {
  try {
    return await withTimeout(work(), ms, 'queue');
  } catch {
    throw new AppError('SERVICE_UNAVAILABLE', message, { dependency: 'redis' });
  }
}
