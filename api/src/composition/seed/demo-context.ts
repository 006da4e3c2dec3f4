import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../../base/context';
import type { Logger } from '../../base/logger';
import type { Services } from '../services';
import type { SalesChannel } from '../../modules/channels/sales-channel.entity';
import type { DemoHistoryOptions } from './demo-transactions';

/** What every step of the demo seed is given. */
export interface DemoSeedContext {
  rootEm: EntityManager;
  services: Services;
  log: Logger;
  /** The seed's moment: dates of the demo are placed relative to it. */
  now: Date;
  /** The demo web shop, which the history is imported into and the printed key belongs to. */
  web: SalesChannel;
  history: DemoHistoryOptions & { file?: string };
  /** The newest imported order, once the history step ran: later demo orders stay before its day ends, so that they do not move the models' holdout window. */
  historyEnd?: Date;
  /** A fresh context (own EntityManager fork) for one service call: a long seed would otherwise grow one identity map. */
  ctx(): Context;
  /** The same, calling as the web shop with the demo key: what the storefront would do (enrolments, orders). */
  asWebShop(): Context;
  /** Counts the steps report, printed with the credentials. */
  counts: Record<string, number>;
}

/**
 * One part of the demo data. `run` is idempotent: a restart of `npm start` seeds again, and a step that finds its data
 * adds nothing (each checks for it first).
 */
export interface DemoSeedStep {
  name: string;
  run(demo: DemoSeedContext): Promise<void>;
}

/** A small seeded PRNG: the same demo at every start. */
export function seededRandom(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks by weight: `weighted(r, [[10, 0.25], [9, 0.25], ...])`. */
export function weighted<T>(random: () => number, choices: readonly (readonly [T, number])[]): T {
  const total = choices.reduce((s, [, w]) => s + w, 0);
  let x = random() * total;
  for (const [value, weight] of choices) {
    x -= weight;
    if (x < 0) return value;
  }
  return choices[choices.length - 1][0];
}

const FIRST = ['Olivia', 'Noah', 'Amelia', 'Oliver', 'Isla', 'George', 'Ava', 'Arthur', 'Mia', 'Leo', 'Ivy', 'Harry', 'Freya', 'Oscar', 'Lily', 'Jack', 'Grace', 'Theo', 'Rosie', 'Henry'];
const LAST = ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Patel', 'Wright', 'Evans', 'Walker', 'Hughes', 'Green', 'Hall', 'Clarke', 'Lewis', 'Wood'];

/** A made-up name for the n-th person, the same at every start. */
export function demoName(n: number): { firstName: string; lastName: string } {
  return { firstName: FIRST[n % FIRST.length], lastName: LAST[Math.floor(n / FIRST.length) % LAST.length] };
}

/**
 * Calls `fn` for every item, a few at a time: the seed's service calls each wait on the database more than they work,
 * and each is its own transaction on its own member, so they do not contend.
 */
export async function inParallel<T>(items: readonly T[], fn: (item: T, index: number) => Promise<void>, concurrency = 4): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
