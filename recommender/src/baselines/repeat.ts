import type { RecsModel, RecsTrainSet } from '../eval/types';
import { recentBuyers } from './interactions';
import { POP_WINDOW_DAYS } from './pop';

/**
 * REPEAT: the user's own train items by distinct invoices containing them, then most recent purchase, then StockCode;
 * every other item after them in POP order. In view `new` the own items are removed, which leaves POP.
 */
export class RepeatBaseline implements RecsModel {
  readonly name = 'REPEAT';
  readonly kind = 'baseline' as const;
  private pop: Float64Array = new Float64Array(0);
  /** Per user: own items in REPEAT order. */
  private own: Int32Array[] = [];

  async fit(train: RecsTrainSet): Promise<void> {
    this.pop = recentBuyers(train, POP_WINDOW_DAYS);
    const perUser = train.users.map(() => new Map<number, { invoices: Set<number>; last: number }>());
    const { user, item, invoice, time } = train.events;
    for (let k = 0; k < user.length; k++) {
      const m = perUser[user[k]];
      let s = m.get(item[k]);
      if (!s) m.set(item[k], (s = { invoices: new Set(), last: -Infinity }));
      s.invoices.add(invoice[k]);
      if (time[k] > s.last) s.last = time[k];
    }
    this.own = perUser.map((m) =>
      Int32Array.from(
        [...m.entries()]
          .sort(([i, a], [j, b]) => b.invoices.size - a.invoices.size || b.last - a.last || i - j)
          .map(([i]) => i),
      ),
    );
  }

  score(users: Int32Array): Float64Array {
    const n = this.pop.length;
    const top = this.pop.reduce((m, x) => Math.max(m, x), 0) + 1;
    const out = new Float64Array(users.length * n);
    users.forEach((u, b) => {
      const row = b * n;
      out.set(this.pop, row);
      const own = this.own[u];
      own.forEach((i, r) => (out[row + i] = top + own.length - r));
    });
    return out;
  }
}
