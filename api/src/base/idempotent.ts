import { UniqueConstraintViolationException } from '@mikro-orm/core';

/**
 * Runs a keyed write whose real guard is a unique index. When a concurrent twin committed the key first, this one
 * answers as the winner did: `findWinner` reads it (in a fresh context: the write's own was rolled back) and `replay`
 * answers it, throwing CONFLICT when the bodies differ. `findWinner` may itself throw the CONFLICT that answers instead;
 * when it finds nothing the violation was not the key's and is rethrown.
 *
 * Wrap the whole write, its member-lock and merge handling (`onLiveMember`) included: the violation surfaces only
 * once the write has given up. A write with nothing to replay (a plain CONFLICT) uses `conflictOnDuplicate` (errors.ts).
 */
export async function idempotent<T, W>(
  write: () => Promise<T>,
  findWinner: () => Promise<W | null>,
  replay: (winner: W) => T | Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!(err instanceof UniqueConstraintViolationException)) throw err;
    const winner = await findWinner();
    if (winner === null) throw err;
    return await replay(winner);
  }
}
