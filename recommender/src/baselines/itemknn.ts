import type { RecsModel, RecsTrainSet } from '../eval/types';
import { userItemLists } from './interactions';

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
    // Co-purchase counts one row at a time (users of item i, then their items): memory stays O(n) per row.
    const buyers: number[][] = Array.from({ length: n }, () => []);
    this.lists.forEach((items, u) => items.forEach((i) => buyers[i].push(u)));
    const norm = Float64Array.from(buyers, (b) => Math.sqrt(b.length));
    const row = new Float64Array(n);
    const touched: number[] = [];
    this.neighbours = [];
    this.similarities = [];
    for (let i = 0; i < n; i++) {
      touched.length = 0;
      for (const u of buyers[i]) {
        for (const j of this.lists[u]) {
          if (row[j] === 0) touched.push(j);
          row[j]++;
        }
      }
      const sim = (j: number) => row[j] / (norm[i] * norm[j]);
      // Ties at the k-th neighbour keep the higher StockCode, as an ascending argsort cut from the top does: the
      // protocol leaves this open, and this is the choice that reproduces the reference figures.
      const cand = touched.filter((j) => j !== i).sort((a, b) => sim(b) - sim(a) || b - a).slice(0, this.k);
      this.neighbours.push(Int32Array.from(cand));
      this.similarities.push(Float64Array.from(cand, sim));
      for (const j of touched) row[j] = 0;
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
