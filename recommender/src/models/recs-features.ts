import type { BprMf } from './bpr';
import type { EaseScorer } from './ease';
import { type Snapshot } from './snapshot';
import { DAY_MS } from '../time';

export const RECS_FEATURES = [
  'bought', 'log_invoices_ui', 'share_invoices_ui', 'log_days_since_ui', 'log_decayed_ui', 'log_quantity_ui',
  'log_item_recent', 'log_item_very_recent', 'log_item_customers', 'log_item_age_days',
  'ease_z', 'ease', 'ease_last_basket_z', 'ease_recent_z', 'bpr_z',
  'log_user_invoices', 'log_user_days_since', 'log_user_items',
] as const;
export const F = RECS_FEATURES.length;

export interface CandidateOptions {
  /** Unbought items taken by EASE score, by EASE from the last basket alone, by BPR, and by recent popularity. */
  ease: number;
  lastBasket: number;
  bpr: number;
  popular: number;
}

export const CANDIDATE_DEFAULTS: CandidateOptions = { ease: 100, lastBasket: 30, bpr: 30, popular: 30 };

/** Candidates of a block of users with their features; rows of one user are contiguous. */
export interface CandidateBlock {
  users: Int32Array;
  /** rowStart[k]..rowStart[k+1] are the rows of users[k]. */
  rowStart: Int32Array;
  item: Int32Array;
  bought: Uint8Array;
  x: Float32Array;
  /** EASE score of every item per user [users × nItems], for ordering the items outside the candidates. */
  ease: Float32Array;
}

/** Builds candidates and features for `users` as of the snapshot. */
export function candidateBlock(s: Snapshot, ease: EaseScorer, bpr: BprMf, users: Int32Array, opt: CandidateOptions): CandidateBlock {
  const n = s.nItems;
  const easeAll = ease.score(...rowsOf(s.ptr, s.pairItem, users));
  const easeLast = ease.score(...rowsOf(s.basketPtr, s.basketItem, users));
  // The user's items weighted by how recently (and often) they were bought.
  const [rp, ri] = rowsOf(s.ptr, s.pairItem, users);
  const decay = new Float32Array(ri.length);
  users.forEach((u, r) => decay.set(s.pairDecay.subarray(s.ptr[u], s.ptr[u + 1]), rp[r]));
  const easeRecent = ease.score(rp, ri, decay);
  const bprAll = bpr.score(users);
  const logRecent = s.itemRecent.map(Math.log1p);
  const popOrder = topIndices(s.itemRecent, opt.popular + 200);

  const rowStart = new Int32Array(users.length + 1);
  const items: number[] = [];
  const feats: number[] = [];
  const boughtFlags: number[] = [];
  const slotOf = new Int32Array(n).fill(-1);
  users.forEach((u, r) => {
    const off = r * n;
    const ea = easeAll.subarray(off, off + n), el = easeLast.subarray(off, off + n), bp = bprAll.subarray(off, off + n);
    const er = easeRecent.subarray(off, off + n);
    const [eaMean, eaStd] = moments(ea), [elMean, elStd] = moments(el), [bpMean, bpStd] = moments(bp), [erMean, erStd] = moments(er);
    const chosen: number[] = [];
    const pairOfItem = new Map<number, number>();
    for (let p = s.ptr[u]; p < s.ptr[u + 1]; p++) {
      pairOfItem.set(s.pairItem[p], p);
      chosen.push(s.pairItem[p]);
      slotOf[s.pairItem[p]] = 1;
    }
    const addTop = (scores: Float32Array, k: number) => {
      let added = 0;
      for (const i of topIndices(scores, k + (s.ptr[u + 1] - s.ptr[u]))) {
        if (added >= k) break;
        if (slotOf[i] === 1) continue;
        slotOf[i] = 1;
        chosen.push(i);
        added++;
      }
    };
    addTop(ea, opt.ease);
    addTop(el, opt.lastBasket);
    addTop(er, opt.lastBasket);
    addTop(bp, opt.bpr);
    let added = 0;
    for (const i of popOrder) {
      if (added >= opt.popular) break;
      if (slotOf[i] === 1) continue;
      slotOf[i] = 1;
      chosen.push(i);
      added++;
    }
    const uInv = s.userInvoices[u];
    const uDays = Math.log1p(Math.max(0, (s.at - s.userLast[u]) / DAY_MS));
    const uItems = Math.log1p(s.ptr[u + 1] - s.ptr[u]);
    for (const i of chosen) {
      slotOf[i] = -1;
      const p = pairOfItem.get(i);
      const has = p !== undefined;
      items.push(i);
      boughtFlags.push(has ? 1 : 0);
      const age = Number.isFinite(s.itemFirst[i]) ? Math.log1p((s.at - s.itemFirst[i]) / DAY_MS) : 0;
      feats.push(
        has ? 1 : 0,
        has ? Math.log1p(s.pairInvoices[p]) : 0,
        has ? s.pairInvoices[p] / Math.max(1, uInv) : 0,
        has ? Math.log1p((s.at - s.pairLast[p]) / DAY_MS) : 0,
        has ? Math.log1p(s.pairDecay[p]) : 0,
        has ? Math.log1p(s.pairQuantity[p]) : 0,
        logRecent[i], Math.log1p(s.itemVeryRecent[i]), Math.log1p(s.itemCustomers[i]), age,
        (ea[i] - eaMean) / eaStd, ea[i], (el[i] - elMean) / elStd, (er[i] - erMean) / erStd, (bp[i] - bpMean) / bpStd,
        Math.log1p(uInv), uDays, uItems,
      );
    }
    rowStart[r + 1] = items.length;
  });
  return { users, rowStart, item: Int32Array.from(items), bought: Uint8Array.from(boughtFlags), x: Float32Array.from(feats), ease: easeAll };
}

/** The CSR rows of `users` as a CSR of their own. */
export function rowsOf(ptr: Int32Array, items: Int32Array, users: Int32Array): [Int32Array, Int32Array] {
  const outPtr = new Int32Array(users.length + 1);
  users.forEach((u, r) => (outPtr[r + 1] = outPtr[r] + ptr[u + 1] - ptr[u]));
  const out = new Int32Array(outPtr[users.length]);
  users.forEach((u, r) => out.set(items.subarray(ptr[u], ptr[u + 1]), outPtr[r]));
  return [outPtr, out];
}

function moments(a: Float32Array): [number, number] {
  let s = 0, q = 0;
  for (let i = 0; i < a.length; i++) { s += a[i]; q += a[i] * a[i]; }
  const mean = s / a.length;
  return [mean, Math.sqrt(Math.max(q / a.length - mean * mean, 1e-12))];
}

/** Indices of the k largest values, largest first (ties: lower index first). */
export function topIndices(values: Float32Array, k: number): number[] {
  const n = values.length;
  if (k >= n) return Array.from({ length: n }, (_, i) => i).sort((a, b) => values[b] - values[a] || a - b);
  const sorted = Float32Array.from(values).sort();
  const threshold = sorted[n - k];
  const idx: number[] = [];
  for (let i = 0; i < n; i++) if (values[i] >= threshold) idx.push(i);
  return idx.sort((a, b) => values[b] - values[a] || a - b).slice(0, k);
}
