import type { RecsTrainSet } from '../eval/types';
import { DAY_MS } from '../time';

/**
 * What the train rows say about users and items as of time `at` (rows strictly before it): the user-item pairs in
 * CSR form with their repeat-purchase statistics, per-user and per-item aggregates, and each user's last basket.
 */
export interface Snapshot {
  at: number;
  nUsers: number;
  nItems: number;
  /** CSR over users: pairs ptr[u]..ptr[u+1] are u's distinct items. */
  ptr: Int32Array;
  pairItem: Int32Array;
  /** Distinct invoices of u containing the item. */
  pairInvoices: Float32Array;
  pairLast: Float64Array;
  pairQuantity: Float32Array;
  /** Σ over those invoices of exp(−age / horizon). */
  pairDecay: Float32Array;
  userInvoices: Float32Array;
  userLast: Float64Array;
  userFirst: Float64Array;
  /** Distinct items of the user's most recent invoice (CSR). */
  basketPtr: Int32Array;
  basketItem: Int32Array;
  /** Distinct customers buying the item in the horizon-long window before `at`, a third of it, and ever. */
  itemRecent: Float32Array;
  itemVeryRecent: Float32Array;
  itemCustomers: Float32Array;
  itemFirst: Float64Array;
}

export function snapshotAt(train: RecsTrainSet, at: number): Snapshot {
  const nUsers = train.users.length;
  const nItems = train.items.length;
  const ev = train.events;
  const horizon = train.horizonDays * DAY_MS;
  const pairOf = new Map<number, number>();
  const pu: number[] = [], pi: number[] = [], pinv: number[] = [], plast: number[] = [], pqty: number[] = [], pdecay: number[] = [], plastInvoice: number[] = [];
  const userInvoices = new Float32Array(nUsers);
  const userLast = new Float64Array(nUsers).fill(-Infinity);
  const userFirst = new Float64Array(nUsers).fill(Infinity);
  const userLastInvoice = new Int32Array(nUsers).fill(-1);
  const basket: number[][] = Array.from({ length: nUsers }, () => []);
  const itemRecentSet = new Map<number, Set<number>>();
  const itemVeryRecentSet = new Map<number, Set<number>>();
  const itemCustSet = new Map<number, Set<number>>();
  const itemFirst = new Float64Array(nItems).fill(Infinity);

  for (let k = 0; k < ev.user.length; k++) {
    const t = ev.time[k];
    if (t >= at) break;
    const u = ev.user[k], i = ev.item[k], inv = ev.invoice[k];
    if (userLastInvoice[u] !== inv) {
      userLastInvoice[u] = inv;
      userInvoices[u]++;
      basket[u] = [];
    }
    if (!basket[u].includes(i)) basket[u].push(i);
    userLast[u] = Math.max(userLast[u], t);
    userFirst[u] = Math.min(userFirst[u], t);
    const key = u * nItems + i;
    let p = pairOf.get(key);
    if (p === undefined) {
      p = pu.length;
      pairOf.set(key, p);
      pu.push(u); pi.push(i); pinv.push(0); plast.push(t); pqty.push(0); pdecay.push(0); plastInvoice.push(-1);
    }
    if (plastInvoice[p] !== inv) {
      plastInvoice[p] = inv;
      pinv[p]++;
      pdecay[p] += Math.exp(-(at - t) / horizon);
    }
    plast[p] = Math.max(plast[p], t);
    pqty[p] += ev.quantity[k];
    itemFirst[i] = Math.min(itemFirst[i], t);
    addTo(itemCustSet, i, u);
    if (t >= at - horizon) addTo(itemRecentSet, i, u);
    if (t >= at - horizon / 3) addTo(itemVeryRecentSet, i, u);
  }

  const order = Array.from(pu.keys()).sort((a, b) => pu[a] - pu[b] || pi[a] - pi[b]);
  const ptr = new Int32Array(nUsers + 1);
  for (const u of pu) ptr[u + 1]++;
  for (let u = 0; u < nUsers; u++) ptr[u + 1] += ptr[u];
  const take = <T extends Float32Array | Float64Array | Int32Array>(src: number[], out: T): T => {
    order.forEach((p, k) => (out[k] = src[p]));
    return out;
  };
  const n = pu.length;
  const basketPtr = new Int32Array(nUsers + 1);
  basket.forEach((b, u) => (basketPtr[u + 1] = basketPtr[u] + b.length));
  const sizes = (m: Map<number, Set<number>>) => {
    const out = new Float32Array(nItems);
    for (const [i, s] of m) out[i] = s.size;
    return out;
  };
  return {
    at, nUsers, nItems, ptr,
    pairItem: take(pi, new Int32Array(n)),
    pairInvoices: take(pinv, new Float32Array(n)),
    pairLast: take(plast, new Float64Array(n)),
    pairQuantity: take(pqty, new Float32Array(n)),
    pairDecay: take(pdecay, new Float32Array(n)),
    userInvoices, userLast, userFirst,
    basketPtr, basketItem: Int32Array.from(basket.flat()),
    itemRecent: sizes(itemRecentSet),
    itemVeryRecent: sizes(itemVeryRecentSet),
    itemCustomers: sizes(itemCustSet),
    itemFirst,
  };
}

function addTo(m: Map<number, Set<number>>, key: number, v: number) {
  let s = m.get(key);
  if (!s) m.set(key, (s = new Set()));
  s.add(v);
}

/** Items each user bought in [from, to), as sets: the labels of an inner split. */
export function boughtBetween(train: RecsTrainSet, from: number, to: number): Map<number, Set<number>> {
  const out = new Map<number, Set<number>>();
  const ev = train.events;
  for (let k = 0; k < ev.user.length; k++) {
    const t = ev.time[k];
    if (t < from || t >= to) continue;
    addTo(out, ev.user[k], ev.item[k]);
  }
  return out;
}

