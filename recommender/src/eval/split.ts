import { DAY_MS } from '../time';
import type { RecsTrainSet, Txn } from './types';

/** A temporal split for the recommendation task (EVAL-PROTOCOL.md). */
export interface RecsSplit {
  train: RecsTrainSet;
  /** Users (indices into train.users) with ≥ 1 train row and ≥ 1 row in the horizon window, ascending. */
  testUsers: Int32Array;
  /** Per test user: the distinct StockCodes bought in the window, catalogue or not. */
  groundTruth: Set<string>[];
  /** Per test user: catalogue indices bought in train (removed from the ranking in view `new`). */
  trainItems: Int32Array[];
}

interface Event {
  customerId: string;
  stockCode: string;
  invoice: string;
  time: number;
  quantity: number;
  unitPrice: number;
  description: string | null;
  country: string | null;
}

function fromTxn(t: Txn): Event {
  return {
    customerId: t.customerId,
    stockCode: t.stockCode!,
    invoice: t.invoice,
    time: t.time,
    quantity: t.quantity,
    unitPrice: t.unitPrice,
    description: t.description,
    country: t.country,
  };
}

/** Builds the train set from events already restricted to before the cutoff, in source order. */
function buildTrainSet(events: Event[], cutoff: number, horizonDays: number): RecsTrainSet {
  const order = events.map((_, i) => i).sort((a, b) => events[a].time - events[b].time || a - b);
  const items = [...new Set(events.map((e) => e.stockCode))].sort(compareCodes);
  const itemIndex = new Map(items.map((c, i) => [c, i]));
  const userIndex = new Map<string, number>();
  const invoiceIndex = new Map<string, number>();
  const users: string[] = [];
  const invoices: string[] = [];
  const userCountry: (string | null)[] = [];
  const n = events.length;
  const ev = {
    user: new Int32Array(n),
    item: new Int32Array(n),
    invoice: new Int32Array(n),
    time: new Float64Array(n),
    quantity: new Float64Array(n),
    unitPrice: new Float64Array(n),
  };
  const priceSum = new Float64Array(items.length);
  const priceCount = new Float64Array(items.length);
  const descCounts: Map<string, number>[] = items.map(() => new Map());
  order.forEach((src, k) => {
    const e = events[src];
    let u = userIndex.get(e.customerId);
    if (u === undefined) {
      u = users.length;
      userIndex.set(e.customerId, u);
      users.push(e.customerId);
      userCountry.push(e.country);
    } else if (e.country) userCountry[u] = e.country;
    let inv = invoiceIndex.get(e.invoice);
    if (inv === undefined) {
      inv = invoices.length;
      invoiceIndex.set(e.invoice, inv);
      invoices.push(e.invoice);
    }
    const i = itemIndex.get(e.stockCode)!;
    ev.user[k] = u;
    ev.item[k] = i;
    ev.invoice[k] = inv;
    ev.time[k] = e.time;
    ev.quantity[k] = e.quantity;
    ev.unitPrice[k] = e.unitPrice;
    priceSum[i] += e.unitPrice;
    priceCount[i]++;
    if (e.description) descCounts[i].set(e.description, (descCounts[i].get(e.description) ?? 0) + 1);
  });
  const itemDescription = descCounts.map((m) => {
    let best: string | null = null;
    let bestCount = 0;
    for (const [d, c] of m) if (c > bestCount || (c === bestCount && best !== null && d < best)) [best, bestCount] = [d, c];
    return best;
  });
  const itemMeanPrice = priceSum.map((s, i) => s / priceCount[i]);
  return { cutoff, horizonDays, users, items, events: ev, invoices, itemDescription, itemMeanPrice, userCountry };
}

/** StockCode order for the catalogue and for ties: plain code-unit order, as every language sorts strings. */
export function compareCodes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function splitEvents(events: Event[], cutoff: number, horizonDays: number): RecsSplit {
  const end = cutoff + horizonDays * DAY_MS;
  const train = buildTrainSet(
    events.filter((e) => e.time < cutoff),
    cutoff,
    horizonDays,
  );
  const userIndex = new Map(train.users.map((u, i) => [u, i]));
  const gt = new Map<number, Set<string>>();
  for (const e of events) {
    if (e.time < cutoff || e.time >= end) continue;
    const u = userIndex.get(e.customerId);
    if (u === undefined) continue;
    let s = gt.get(u);
    if (!s) gt.set(u, (s = new Set()));
    s.add(e.stockCode);
  }
  const testUsers = Int32Array.from([...gt.keys()].sort((a, b) => a - b));
  const bought = new Map<number, Set<number>>(Array.from(testUsers, (u) => [u, new Set<number>()]));
  for (let k = 0; k < train.events.user.length; k++) bought.get(train.events.user[k])?.add(train.events.item[k]);
  return {
    train,
    testUsers,
    groundTruth: Array.from(testUsers, (u) => gt.get(u)!),
    trainItems: Array.from(testUsers, (u) => Int32Array.from([...bought.get(u)!].sort((a, b) => a - b))),
  };
}

/** The outer split: train before the cutoff, ground truth in [cutoff, cutoff + horizon). Rows need StockCodes. */
export function recsSplit(rows: Txn[], cutoff: number, horizonDays: number): RecsSplit {
  return splitEvents(rows.filter((t) => t.stockCode !== null).map(fromTxn), cutoff, horizonDays);
}

/**
 * The same protocol one horizon earlier, inside a train set: for models and baselines that tune themselves
 * (inner cutoff = cutoff − horizon). Nothing at or after the outer cutoff is visible.
 */
export function innerRecsSplit(train: RecsTrainSet, horizonDays = train.horizonDays): RecsSplit {
  const ev = train.events;
  const events: Event[] = [];
  for (let k = 0; k < ev.user.length; k++) {
    events.push({
      customerId: train.users[ev.user[k]],
      stockCode: train.items[ev.item[k]],
      invoice: train.invoices[ev.invoice[k]],
      time: ev.time[k],
      quantity: ev.quantity[k],
      unitPrice: ev.unitPrice[k],
      description: train.itemDescription[ev.item[k]],
      country: train.userCountry[ev.user[k]],
    });
  }
  return splitEvents(events, train.cutoff - horizonDays * DAY_MS, horizonDays);
}
