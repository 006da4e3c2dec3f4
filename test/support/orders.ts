import type { Auth, Harness } from './harness';
import type { build } from '../fixtures/build';

export const RECORD_ORDER = `mutation Record($input: RecordOrderInput!) {
  recordOrder(input: $input) {
    id externalOrderId memberId status currency subtotalMinor orderDiscountMinor totalMinor pointsEarned pointsClawedBack channelKind
    pointsBreakdown { kind label ruleId ruleVersion points }
    lines { lineNo sku quantity netMinor returnedQuantity }
  }
}`;

export const RECORD_RETURN = `mutation Return($input: RecordReturnInput!) {
  recordReturn(input: $input) { id valueMinor pointsClawedBack lines { lineNo sku quantity valueMinor } }
}`;

export const POINTS = `query Points($id: ID!) { member(id: $id) { id points { available pending lifetime nextExpiry { points expiresAt } } } }`;

let counter = 0;

export interface LineSpec {
  sku?: string;
  category?: string;
  quantity?: number;
  unitPriceMinor?: number;
  discountMinor?: number;
}

/** A valid RecordOrderInput whose total is computed from its lines. */
export function orderInput(memberId: string | null, lines: LineSpec[] = [{}], extra: Record<string, unknown> = {}) {
  const built = lines.map((l, i) => ({
    sku: l.sku ?? `SKU-${i + 1}`,
    name: `Product ${l.sku ?? i + 1}`,
    category: l.category ?? 'General',
    quantity: l.quantity ?? 1,
    unitPriceMinor: l.unitPriceMinor ?? 1000,
    discountMinor: l.discountMinor ?? 0,
  }));
  const orderDiscountMinor = (extra.orderDiscountMinor as number) ?? 0;
  const totalMinor = built.reduce((s, l) => s + l.quantity * l.unitPriceMinor - l.discountMinor, 0) - orderDiscountMinor;
  return {
    externalOrderId: `ORD-${process.env.JEST_WORKER_ID}-${++counter}-${Date.now()}`,
    ...(memberId ? { member: { id: memberId } } : {}),
    placedAt: new Date().toISOString(),
    currency: 'GBP',
    lines: built,
    orderDiscountMinor,
    totalMinor,
    ...extra,
  };
}

export async function pointsOf(h: Harness, auth: Auth, memberId: string) {
  const res = await h.gql(auth, POINTS, { id: memberId });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data.member.points as { available: number; pending: number; lifetime: number; nextExpiry: { points: number; expiresAt: string } | null };
}

export async function ledgerCheck(h: Harness) {
  return h.app.services.points.check(h.em());
}

/**
 * A history the models can learn from (recommender/train-job.test.ts and the fault tests train on it): 45 members in three taste groups, two
 * orders each before the last 30 days and one within them, except group 2, which stops buying. Returns the orders'
 * inputs, unrecorded.
 */
export async function trainableHistory(b: { member(): { inCountry(country: string): { save(): Promise<{ id: string }> } } }) {
  const day = 86_400_000;
  const now = Date.now();
  const inputs: ReturnType<typeof orderInput>[] = [];
  for (let i = 0; i < 45; i++) {
    const group = i % 3;
    const member = await b.member().inCountry(['GB', 'FR', 'DE'][group]).save();
    const sku = (k: number) => `G${group}-P${(i + k) % 4}`;
    const orders: [number, string[]][] = [
      [100 + (i % 7), [sku(0)]],
      [70 + (i % 5), [sku(1), sku(0)]],
      ...(group === 2 ? [] : ([[20 - (i % 9), [sku(2), sku(0)]]] as [number, string[]][])),
    ];
    for (const [daysAgo, skus] of orders) {
      inputs.push(orderInput(member.id, skus.map((s) => ({ sku: s, unitPriceMinor: 500 })), { placedAt: new Date(now - daysAgo * day).toISOString() }));
    }
  }
  return inputs;
}

/** One lapsed member of trainableHistory (group 2, DE) buys today, as a re-scoring test needs; returns their id. */
export async function lapsedMemberBuysToday(h: Harness, b: ReturnType<typeof build>): Promise<string> {
  const [lapsed] = await h.sql(`select m.id from member m where m.country = 'DE' order by m.id limit 1`);
  const key = await b.apiKey();
  const input = orderInput(lapsed.id, [{ sku: 'G2-P0', unitPriceMinor: 500 }]);
  await h.app.services.orders.record(b.ctx(), { ...input, channelId: key.channelId, placedAt: new Date(input.placedAt) } as never);
  return lapsed.id;
}

/** Records trainableHistory through the order service (as an import would), on the given channel. */
export async function recordTrainableHistory(h: Harness, b: ReturnType<typeof build>, channelId: string): Promise<void> {
  for (const input of await trainableHistory(b)) {
    await h.app.services.orders.record(b.ctx(), { ...input, channelId, placedAt: new Date(input.placedAt) } as never);
  }
}

