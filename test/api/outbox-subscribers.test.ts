import { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { useHarness } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';
import { ormOptions, type Orm } from '../../api/src/composition/orm';
import { newId } from '../../api/src/base/ids';
import { createLogger } from '../../api/src/base/logger';
import { OutboxSubscriberRunner } from '../../api/src/modules/events/subscriber-runner';
import type { OutboxEvent, OutboxSubscriber } from '../../api/src/modules/events/subscribers';
import { composePlugins, definePlugin, PluginError } from '../../api/src/composition/plugin';

/**
 * Subscribers are objects the tests control; the plugin registers them so that queue health lists them. Runners are
 * made and driven by the tests (runOnce), as main.ts would start them.
 */
type Behaviour = (event: OutboxEvent, attempt: number) => void;
const behaviours = new Map<string, Behaviour>();
const calls = new Map<string, string[]>();

function subscriber(name: string, options: Partial<OutboxSubscriber> = {}): OutboxSubscriber {
  return {
    name,
    ...options,
    async handle(event, { em, attempt }) {
      calls.set(name, [...(calls.get(name) ?? []), event.id]);
      behaviours.get(name)?.(event, attempt);
      // Written in the cursor's transaction: counts how often the event's handling committed.
      await em.execute(
        `insert into test_subscriber_seen (subscriber, event_id) values (?, ?)
         on conflict (subscriber, event_id) do update set times = test_subscriber_seen.times + 1`,
        [name, event.id],
      );
    },
  };
}

const subscribers = {
  all: subscriber('test.all', { startAt: 'beginning' }),
  pings: subscriber('test.pings', { startAt: 'beginning', eventTypes: ['test.ping'] }),
  fromNow: subscriber('test.from-now'),
  flaky: subscriber('test.flaky', { startAt: 'beginning', eventTypes: ['test.flaky'] }),
  shared: subscriber('test.shared', { startAt: 'beginning', eventTypes: ['test.shared'] }),
  late: subscriber('test.late', { startAt: 'beginning', eventTypes: ['test.late'] }),
  restart: subscriber('test.restart', { startAt: 'beginning', eventTypes: ['test.restart'] }),
};

const h = useHarness(
  { SUBSCRIBERS_BACKOFF_MS: '1000', SUBSCRIBERS_BACKOFF_MAX_MS: '1500', SUBSCRIBERS_REPORT_AFTER: '2', SUBSCRIBERS_BATCH_SIZE: '25' },
  { plugins: [definePlugin({ name: 'test-subscribers', subscribers: Object.values(subscribers) })] },
);
const b = build(h);

const HEALTH = `query { outboxSubscribers { name eventTypes lag attempts isStuck failingEventId lastError lastErrorAt nextAttemptAt updatedAt } }`;

const runners: OutboxSubscriberRunner[] = [];
function runner(list: OutboxSubscriber[], orm: Orm = h.orm): OutboxSubscriberRunner {
  const r = new OutboxSubscriberRunner(orm, list, h.config, createLogger('silent'));
  runners.push(r);
  return r;
}

/** Each in its own transaction, so each gets its own transaction id; returns the ids in the order written. */
async function record(type: string, n = 1): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = newId();
    await h.sql(`insert into event_outbox (id, type, payload, occurred_at, created_at) values (?, ?, ?::jsonb, now(), now())`, [id, type, JSON.stringify({ i })]);
    ids.push(id);
  }
  return ids;
}

async function outboxOrder(type: string): Promise<string[]> {
  return (await h.sql<{ id: string }>(`select id from event_outbox where type = ? order by tx_id, id`, [type])).map((r) => r.id);
}

async function seen(name: string): Promise<Array<{ event_id: string; times: number }>> {
  return h.sql(`select event_id, times from test_subscriber_seen where subscriber = ? order by seq`, [name]);
}

let admin: { auth: { token: string } };
async function health(name: string) {
  const res = await h.gql(admin.auth, HEALTH);
  expect(res.errors).toBeUndefined();
  const row = res.data.outboxSubscribers.find((s: { name: string }) => s.name === name);
  if (!row) throw new Error(`no health row for ${name}`);
  return row;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs passes until `done`: a transaction running anywhere on the server (other suites share it) holds the settled
 * horizon back for as long as it runs, so passes may not reach the newest events for a while. The bound is time, not
 * a number of passes: on a loaded CI machine 250 passes (about 5 s) were once not enough.
 */
async function runUntil(r: OutboxSubscriberRunner, done: () => Promise<boolean> | boolean, what: string, withinMs = 20_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    await r.runOnce();
    if (await done()) return;
    await sleep(20);
  }
  throw new Error(`never happened within ${withinMs} ms: ${what}`);
}

beforeAll(async () => {
  await h.sql(`create table if not exists test_subscriber_seen (seq bigserial, subscriber text, event_id uuid, times int not null default 1, primary key (subscriber, event_id))`);
  admin = await b.admin(AdminRole.ANALYST);
});

afterEach(async () => {
  for (const r of runners.splice(0)) await r.close();
  behaviours.clear();
});

describe('outbox subscribers', () => {
  it('hands each event to a subscriber once, in outbox order, and only the types it asked for', async () => {
    const member = await b.member().save();
    const pings = await record('test.ping', 30);
    await record('test.other', 5);
    const r = runner([subscribers.all, subscribers.pings]);
    const total = (await h.sql(`select count(*)::int as n from event_outbox`))[0].n;
    await runUntil(r, () => calls.get('test.pings')?.length === 30 && calls.get('test.all')?.length === total, 'both caught up');

    expect(calls.get('test.pings')).toEqual(pings);
    expect((await seen('test.pings')).map((s) => s.event_id)).toEqual(pings);
    const everything = (await h.sql<{ id: string }>(`select id from event_outbox order by tx_id, id`)).map((e) => e.id);
    expect(calls.get('test.all')).toEqual(everything);
    expect(everything.length).toBeGreaterThan(35);
    const enrolled = await h.sql(`select id from event_outbox where type = 'member.enrolled' and member_id = ?`, [member.id]);
    expect(calls.get('test.all')).toContain(enrolled[0].id);

    // Caught up: another pass hands out nothing, and health shows no lag.
    expect(await r.runOnce()).toBe(0);
    expect(await health('test.pings')).toMatchObject({ lag: 0, attempts: 0, isStuck: false, lastError: null, eventTypes: ['test.ping'] });
  });

  it('starts a subscriber without a stored cursor after the events already settled, unless it asks for the beginning', async () => {
    const before = await record('test.before', 3);
    // 'now' is the settled end: wait until no transaction older than these is running anywhere on the server.
    for (let i = 0; i < 250; i++) {
      const [row] = await h.sql(`select bool_and(tx_id < pg_snapshot_xmin(pg_current_snapshot())) as settled from event_outbox where id in (?)`, [before]);
      if (row.settled) break;
      await sleep(20);
    }
    const r = runner([subscribers.fromNow]);
    await r.runOnce();
    expect(calls.get('test.from-now') ?? []).toEqual([]);
    const after = await record('test.after', 2);
    await runUntil(r, () => calls.get('test.from-now')?.length === 2, 'the later events');
    expect(calls.get('test.from-now')).toEqual(after);
  });

  it('keeps its cursor across a restart: a new runner goes on after the last event handled', async () => {
    const first = await record('test.restart', 4);
    const before = runner([subscribers.restart]);
    await runUntil(before, () => calls.get('test.restart')?.length === 4, 'the first events');
    await before.close();
    const second = await record('test.restart', 3);

    const after = runner([subscribers.restart]);
    await runUntil(after, async () => (await seen('test.restart')).length === 7, 'the events after the restart');
    expect(calls.get('test.restart')).toEqual([...first, ...second]);
    expect((await seen('test.restart')).every((s) => s.times === 1)).toBe(true);
  });

  it('retries a failing event with back-off, shows it in queue health, then moves on once it succeeds', async () => {
    const [ok, bad, afterBad] = await record('test.flaky', 3);
    let failUntil = 3;
    behaviours.set('test.flaky', (event, attempt) => {
      if (event.id === bad && attempt < failUntil) throw new Error(`refused on attempt ${attempt}`);
    });
    const r = runner([subscribers.flaky]);

    await runUntil(r, async () => (await health('test.flaky')).attempts === 1, 'the first failure');
    // The event before the failing one counts; the failing one and those after it wait.
    expect((await seen('test.flaky')).map((s) => s.event_id)).toEqual([ok]);
    let row = await health('test.flaky');
    expect(row).toMatchObject({ lag: 2, attempts: 1, isStuck: false, failingEventId: bad, lastError: 'Error: refused on attempt 1' });
    expect(new Date(row.nextAttemptAt).getTime() - new Date(row.lastErrorAt).getTime()).toBe(1000);

    // Inside the back-off nothing is tried.
    const tried = calls.get('test.flaky')!.length;
    await r.runOnce();
    expect(calls.get('test.flaky')!.length).toBe(tried);

    await runUntil(r, async () => (await health('test.flaky')).attempts === 2, 'the second failure');
    row = await health('test.flaky');
    expect(row).toMatchObject({ attempts: 2, isStuck: true, failingEventId: bad, lastError: 'Error: refused on attempt 2', lag: 2 });
    // Twice as long, up to SUBSCRIBERS_BACKOFF_MAX_MS.
    expect(new Date(row.nextAttemptAt).getTime() - new Date(row.lastErrorAt).getTime()).toBe(1500);

    await runUntil(r, async () => (await seen('test.flaky')).length === 3, 'the retry that succeeds');
    expect((await seen('test.flaky')).map((s) => s.event_id)).toEqual([ok, bad, afterBad]);
    row = await health('test.flaky');
    expect(row).toMatchObject({ attempts: 0, isStuck: false, failingEventId: null, nextAttemptAt: null, lag: 0 });
    // The last error stays for whoever looks into it.
    expect(row.lastError).toBe('Error: refused on attempt 2');
    // Writes of the failed attempts were rolled back with their savepoint: each event counted once.
    expect((await seen('test.flaky')).map((s) => s.times)).toEqual([1, 1, 1]);
    expect(calls.get('test.flaky')!.filter((id) => id === bad)).toHaveLength(3);
    failUntil = 0;
  });

  it('lets two runners (two processes) share a subscriber: each event handled once, in order, none skipped', async () => {
    const otherOrm = await MikroORM.init(ormOptions(h.config));
    try {
      const a = runner([subscribers.shared]);
      const c = runner([subscribers.shared], otherOrm);
      // Events keep arriving while both run.
      const writing = record('test.shared', 120);
      let done = false;
      void writing.then(() => (done = true));
      while (!done) await Promise.all([a.runOnce(), c.runOnce()]);
      await runUntil(a, async () => (await seen('test.shared')).length === 120, 'every shared event');

      const order = await outboxOrder('test.shared');
      expect(order).toHaveLength(120);
      const handled = await seen('test.shared');
      expect(handled.map((s) => s.event_id)).toEqual(order);
      expect(handled.every((s) => s.times === 1)).toBe(true);
      expect(calls.get('test.shared')!.length).toBeGreaterThanOrEqual(120);
    } finally {
      await otherOrm.close();
    }
  });

  it('does not skip an event whose transaction commits after a later one', async () => {
    const r = runner([subscribers.late]);
    await r.runOnce();
    const slow = new Client({ connectionString: h.config.DATABASE_URL });
    await slow.connect();
    try {
      // The slow transaction writes first, so its event has the smaller id, and commits last.
      const early = newId();
      await slow.query('begin');
      await slow.query(`insert into event_outbox (id, type, payload, occurred_at, created_at) values ($1, 'test.late', '{}', now(), now())`, [early]);
      const [later] = await record('test.late');
      expect(early < later).toBe(true);

      await runUntil(r, async () => (await h.sql(`select 1 from outbox_subscriber_cursor where name = 'test.late'`)).length === 1, 'the cursor');
      await r.runOnce();
      // An id-ordered cursor would now stand at `later` and never see `early`: here both wait.
      expect(calls.get('test.late') ?? []).toEqual([]);
      expect((await health('test.late')).lag).toBe(1);

      await slow.query('commit');
      await runUntil(r, () => calls.get('test.late')?.length === 2, 'both events');
      expect(calls.get('test.late')).toEqual([early, later]);

      // An id taken before its transaction began (EventService.pending) and written after a later event was handled.
      const takenEarly = newId();
      const [handledFirst] = await record('test.late');
      await runUntil(r, () => calls.get('test.late')?.length === 3, 'the third event');
      await slow.query(`insert into event_outbox (id, type, payload, occurred_at, created_at) values ($1, 'test.late', '{}', now(), now())`, [takenEarly]);
      await runUntil(r, () => calls.get('test.late')?.length === 4, 'the event with the earlier id');
      expect(takenEarly < handledFirst).toBe(true);
      expect(calls.get('test.late')).toEqual([early, later, handledFirst, takenEarly]);
    } finally {
      await slow.end();
    }
  });

  it('refuses at start two subscribers with one name, or a name that cannot name a cursor', () => {
    const named = (name: string) => subscriber(name);
    expect(() => composePlugins([definePlugin({ name: 'one', subscribers: [named('x.y')] }), definePlugin({ name: 'two', subscribers: [named('x.y')] })])).toThrow(
      /plugin "two": Two outbox subscribers are named 'x.y'/,
    );
    expect(() => composePlugins([definePlugin({ name: 'bad', subscribers: [named('Has Spaces')] })])).toThrow(PluginError);
  });

  it('is readable only with queues:read, and lists every subscriber registered', async () => {
    const res = await h.gql(admin.auth, HEALTH);
    expect(res.data.outboxSubscribers.map((s: { name: string }) => s.name)).toEqual(Object.values(subscribers).map((s) => s.name));
    const marketer = await b.admin(AdminRole.MARKETER);
    const denied = await h.gql(marketer.auth, HEALTH);
    expect(denied.errors?.[0].extensions.code).toBe('FORBIDDEN');
  });
});
