import { DAY_MS } from '../time';
import type { RecsTrainSet } from '../eval/types';

/** Per user, the distinct catalogue items bought in train, ascending: the rows of the binary user–item matrix. */
export function userItemLists(train: RecsTrainSet): Int32Array[] {
  const sets = train.users.map(() => new Set<number>());
  const { user, item } = train.events;
  for (let k = 0; k < user.length; k++) sets[user[k]].add(item[k]);
  return sets.map((s) => Int32Array.from([...s].sort((a, b) => a - b)));
}

/** XᵀX of the binary user–item matrix, dense n × n (co-purchase counts; the diagonal is each item's buyers). */
export function cooccurrence(lists: readonly Int32Array[], n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (const items of lists) {
    for (let a = 0; a < items.length; a++) {
      const row = items[a] * n;
      for (let b = 0; b < items.length; b++) c[row + items[b]]++;
    }
  }
  return c;
}

/** Distinct customers buying each item in the `days` before the cutoff. */
export function recentBuyers(train: RecsTrainSet, days: number): Float64Array {
  const from = train.cutoff - days * DAY_MS;
  const seen = new Set<number>();
  const counts = new Float64Array(train.items.length);
  const { user, item, time } = train.events;
  const n = train.items.length;
  for (let k = 0; k < user.length; k++) {
    if (time[k] < from) continue;
    const key = user[k] * n + item[k];
    if (seen.has(key)) continue;
    seen.add(key);
    counts[item[k]]++;
  }
  return counts;
}

/** score(u, ·) = Σ over u's items i of row i of a dense n × n matrix. */
export function sumRows(matrix: Float64Array, n: number, lists: readonly Int32Array[], users: Int32Array): Float32Array {
  const out = new Float32Array(users.length * n);
  const acc = new Float64Array(n);
  users.forEach((u, b) => {
    acc.fill(0);
    for (const i of lists[u]) {
      const row = i * n;
      for (let j = 0; j < n; j++) acc[j] += matrix[row + j];
    }
    out.set(acc, b * n);
  });
  return out;
}
