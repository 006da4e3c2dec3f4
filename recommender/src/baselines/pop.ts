import type { RecsModel, RecsTrainSet } from '../eval/types';
import { recentBuyers } from './interactions';

/** EVAL-PROTOCOL.md fixes the popularity window at 90 days, whatever the horizon. */
export const POP_WINDOW_DAYS = 90;

/** POP: distinct customers buying the item in the 90 days before the cutoff; the same list for everyone. */
export class PopBaseline implements RecsModel {
  readonly name = 'POP';
  readonly kind = 'baseline' as const;
  private counts: Float64Array = new Float64Array(0);

  async fit(train: RecsTrainSet): Promise<void> {
    this.counts = recentBuyers(train, POP_WINDOW_DAYS);
  }

  score(users: Int32Array): Float64Array {
    const n = this.counts.length;
    const out = new Float64Array(users.length * n);
    for (let b = 0; b < users.length; b++) out.set(this.counts, b * n);
    return out;
  }
}
