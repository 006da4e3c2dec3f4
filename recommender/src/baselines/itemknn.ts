import type { RecsModel, RecsTrainSet } from '../eval/types';
import { cooccurrence, userItemLists } from './interactions';

/** ITEMKNN: cosine on the binary user–item matrix, diagonal 0, each item's top 200 neighbours; score = Σ S[i, ·]. */
export class ItemKnnBaseline implements RecsModel {
  readonly name = 'ITEMKNN';
  readonly kind = 'baseline' as const;
  private n = 0;
  private lists: Int32Array[] = [];
  /** Sparse rows: neighbours and similarities of each item. */
  private neighbours: Int32Array[] = [];
  private similarities: Float64Array[] = [];

  constructor(private readonly k = 200) {}

  async fit(train: RecsTrainSet): Promise<void> {
    const n = (this.n = train.items.length);
    this.lists = userItemLists(train);
    const c = cooccurrence(this.lists, n);
    const norm = Float64Array.from({ length: n }, (_, i) => Math.sqrt(c[i * n + i]));
    this.neighbours = [];
    this.similarities = [];
    const cand: number[] = [];
    for (let i = 0; i < n; i++) {
      const row = i * n;
      cand.length = 0;
      for (let j = 0; j < n; j++) if (j !== i && c[row + j] > 0) cand.push(j);
      const sim = (j: number) => c[row + j] / (norm[i] * norm[j]);
      cand.sort((a, b) => sim(b) - sim(a) || a - b);
      const kept = cand.slice(0, this.k);
      this.neighbours.push(Int32Array.from(kept));
      this.similarities.push(Float64Array.from(kept, sim));
    }
  }

  score(users: Int32Array): Float64Array {
    const n = this.n;
    const out = new Float64Array(users.length * n);
    const acc = new Float64Array(n);
    users.forEach((u, b) => {
      acc.fill(0);
      for (const i of this.lists[u]) {
        const nb = this.neighbours[i];
        const s = this.similarities[i];
        for (let t = 0; t < nb.length; t++) acc[nb[t]] += s[t];
      }
      out.set(acc, b * n);
    });
    return out;
  }
}
