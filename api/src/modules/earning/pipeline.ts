import { DriverException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError, isDatabaseUnreachable } from '../../base/errors';
import type { Logger } from '../../base/logger';
import type { SalesChannelKind } from '../../base/enums';
import type { LedgerService, Cause, EarnedLot, LedgerBatch } from '../ledger/ledger.service';
import type { MemberBalance } from '../ledger/member-balance.entity';
import { LedgerReason } from '../ledger/ledger-entry.entity';
import { LotState, type PointLot } from '../ledger/point-lot.entity';
import { runPrepared } from '../../base/prepared';
import { ProgrammeSettings } from '../programme/programme-settings.entity';
import type { EventService, PendingEvent } from '../events/event.service';
import { EventType, type EventPayloads, type EventTypeDefinition } from '../events/event-types';
import { EarningRule } from './earning-rule.entity';
import type { BenefitMultiplier, RuleData } from './engine';
import type { PointsBreakdownItem } from './earning.types';

/**
 * The earning pipeline: every event that earns or takes back points (an order recorded by a channel, a guest order
 * claimed, imported history, a return; later non-purchase activities) runs through the same contributors, each owned
 * and registered by its module at composition (services.ts). docs/concepts/earning-pipeline.md describes it.
 *
 * A run serves one API call (one event) or one import batch (many events of many members) alike: the contributors'
 * reads for all its members are gathered in one statement, the state each contributor keeps per member is carried in
 * memory from one event to the next, and the writes are flushed together at the end.
 */

export enum EarningEventKind {
  ORDER = 'ORDER',
  RETURN = 'RETURN',
  /** A member's non-purchase event, recorded by a plugin through MemberEventService (member-events.ts). */
  ACTIVITY = 'ACTIVITY',
}

/** How an order reached the pipeline: the referral bonus, for one, only qualifies orders the member placed as a member. */
export type OrderOrigin = 'RECORDED' | 'CLAIMED' | 'IMPORTED';

/** What the pipeline reads and sets on an order: an entity, or the importer's plain row. */
export interface CreditableOrder {
  id: string;
  currency: string;
  channelKind: SalesChannelKind;
  placedAt: Date;
  totalMinor: number;
  returnedMinor: number;
  pointsEarned: number;
  pointsBreakdown: PointsBreakdownItem[];
  pointsBasisMinor: number;
  returnedAtCreditMinor: number;
  pointsClawedBack: number;
}

export interface CreditLine {
  sku: string;
  category: string | null;
  /** The product's brand; null when the catalogue does not know it. */
  brand: string | null;
  /** After line and order discounts. */
  netMinor: number;
  quantity: number;
  returnedQuantity: number;
}

export interface OrderEarningEvent {
  kind: EarningEventKind.ORDER;
  memberId: string;
  origin: OrderOrigin;
  order: CreditableOrder;
  lines: CreditLine[];
  /** When the points are earned: the API's clock (now), the order's own time for imported history. */
  at: Date;
}

export interface ReturnEarningEvent {
  kind: EarningEventKind.RETURN;
  memberId: string;
  /** The order with the return applied (`returnedMinor` grown). */
  order: CreditableOrder;
  returnId: string;
  /** Value of this return. */
  valueMinor: number;
  /**
   * The lots the order earned its member (its own, then the bonuses credited on it as ORDER_EARN), which a clawback
   * takes from first, in that order; read only when there is something to claw back.
   */
  orderLots: () => Promise<PointLot[]>;
  at: Date;
}

/**
 * A member's non-purchase event a plugin records (a review written, a store visit): MemberEventService runs it through
 * the pipeline in the transaction that stores it, so a contributor may credit points (`run.earn` with
 * LedgerReason.ACTIVITY) and another count it towards a goal, exactly as orders are.
 */
export interface ActivityEarningEvent {
  kind: EarningEventKind.ACTIVITY;
  memberId: string;
  /** The type of activity, as the recording plugin names it (`review_written`). */
  activity: string;
  /** The stored activity's id: the cause of what is credited for it. */
  activityId: string;
  /** When the member did it (the caller's time), which streaks and windows count by. */
  occurredAt: Date;
  /** What the caller sent with it, already checked by the recording plugin. */
  attributes: Record<string, unknown>;
  /** The sales channel that sent it, or null for an admin. */
  channelId: string | null;
  /** When it is credited: the API's clock. */
  at: Date;
}

export type EarningEvent = OrderEarningEvent | ReturnEarningEvent | ActivityEarningEvent;

/**
 * What other modules lend the contributors, for a plugin's stage that needs more than the run: composition supplies it
 * (services.ts), so the earning module depends on none of them. Each call runs on the run's `em`, in its transaction.
 */
export interface ContributorTools {
  /** Issues a catalogue reward the member earned, for 0 points (RewardService.grant); null when it cannot be given now. */
  grantReward(em: EntityManager, input: { memberId: string; rewardId: string; key: string; grantedBy: string; now: Date }): Promise<{ id: string; voucherCode: string | null } | null>;
  /** Whether the member is in the saved segment at `asOf`; an unknown or deleted segment holds no one. */
  inSegment(em: EntityManager, segmentId: string, memberId: string, asOf: Date): Promise<boolean>;
  /** The member's tier code now, or null. */
  tierOf(em: EntityManager, memberId: string): Promise<string | null>;
  /**
   * The member's purchases placed in [from, to): orders, net spend (total less returns, minor units of any currency as
   * recorded). For goals scaled from the member's own history.
   */
  purchaseHistory(em: EntityManager, memberId: string, from: Date, to: Date): Promise<{ orders: number; spendMinor: number }>;
}

/** The programme-wide terms every event of a run is credited with: read once, before the run's locks. */
export interface EarningTerms {
  settings: ProgrammeSettings;
  rules: RuleData[];
}

/** A member of a run and the span of their events' times, which bounds what the contributors read for them. */
export interface ReadKey {
  memberId: string;
  /** Earliest and latest `at` of the member's events in the run. */
  atFrom: Date;
  atTo: Date;
  /** Earliest and latest time their orders were placed. */
  placedFrom: Date;
  placedTo: Date;
}

/**
 * What a contributor reads per member. `select` is one SQL expression giving JSON, evaluated for each row `k` of the
 * run's keys (`k.member_id uuid, k.at_from, k.at_to, k.placed_from, k.placed_to timestamptz`) inside the one statement
 * that gathers every contributor's reads. It may name the CTEs it declares in `with` (a row lock, say). It reads a
 * superset when the run spans time (an import batch) and the contributor filters per event in memory.
 */
export interface MemberRead<S> {
  /** The SQL, given the run's terms; null to read nothing (the state is then parsed from null). */
  select: string | ((terms: EarningTerms) => string | null);
  /** Named CTEs, each `name as materialized (...)`; they may read `earning_keys`. */
  with?: Record<string, string>;
  /** Evaluated once per run rather than per member (every tier, say); handed to `parse`. */
  shared?: string;
  /** Only for runs with events of these kinds (all by default): a return-only run reads nothing it does not need. */
  kinds?: EarningEventKind[];
  /** The member's state from the JSON `select` gave. */
  parse(value: any, key: ReadKey, run: EarningRun, shared: any): S;
}

/**
 * A stage of the pipeline: what it reads, the multipliers it adds to the base rules, and what it writes for each event.
 * Contributors run in `stage` order (ties in registration order); each writes through the run (`run.earn`,
 * `run.clawback`) or its own rows, and the pipeline flushes everything at the end of the run.
 *
 * A contributor must give the same points whether an event comes alone (the API) or within a batch (the importer): keep
 * in `state` whatever later events of the same member depend on, and update it from the run's writes.
 */
export interface EarningContributor<S = unknown> {
  /** Unique among the registered contributors. */
  readonly name: string;
  /** EarningStage: lower runs first. */
  readonly stage: number;
  readonly read?: MemberRead<S>;
  /**
   * Other members whose balances the run must lock along with its members (before any other lock, in id order): the
   * referrer a referred member's order credits. Read before the locks; a contributor that finds the answer changed
   * once it holds them throws `CoLockChanged`, and the caller runs the use case again.
   */
  coLocked?(em: EntityManager, memberIds: readonly string[]): Promise<string[]>;
  /** Multipliers the base rules apply for this order (tier, plan), collected in registration order before any stage. */
  benefits?(event: OrderEarningEvent, state: S, run: EarningRun): BenefitMultiplier[];
  onOrder?(event: OrderEarningEvent, state: S, run: EarningRun): void | Promise<void>;
  onReturn?(event: ReturnEarningEvent, state: S, run: EarningRun): void | Promise<void>;
  onActivity?(event: ActivityEarningEvent, state: S, run: EarningRun): void | Promise<void>;
  /** After every stage of an order has run: bookkeeping of the contributor's in-memory state. */
  afterOrder?(event: OrderEarningEvent, state: S, run: EarningRun): void;
  /** Writes what the contributor kept in memory during the run (a batch's counters in one statement). */
  flush?(run: EarningRun): Promise<void>;
}

/** Where the built-in contributors sit; a plugin picks a number between them. */
export const EarningStage = {
  /** Base rules, rule multipliers, benefits and caps (earning module). */
  EARN: 100,
  /** Bonuses on top of the capped points (campaigns; later challenges). */
  BONUS: 200,
  /** What depends on the points earned (tier evaluation). */
  EVALUATE: 300,
  /** Credits to others (the referrer and the referred member). */
  SETTLE: 400,
} as const;

/** The answer of a contributor's `coLocked` read changed before the locks were held: run the use case again, once. */
export class CoLockChanged extends Error {}

/**
 * What a plugin's contributor throws passes through when it is the platform's own (an AppError: a deliberate refusal
 * with a documented code), a replay or retry signal (CoLockChanged, a unique violation, a deadlock or serialization
 * failure) or a lost connection; anything else is a bug of the plugin, answered EARNING_FAILED.
 */
function passesThrough(err: unknown): boolean {
  if (err instanceof AppError || err instanceof CoLockChanged || isDatabaseUnreachable(err)) return true;
  const state = err instanceof DriverException ? (err as DriverException & { code?: unknown }).code : undefined;
  return typeof state === 'string' && /^(23|40)/.test(state);
}

/** A ledger row written during the run, as later stages and events see it. */
export interface LedgerWrite {
  memberId: string;
  reason: LedgerReason;
  lifetimeDelta: number;
  at: Date;
}

/** What one event wrote: the lots earned (for the caller's points.earned events) and the points clawed back. */
export interface EventOutcome {
  lots: EarnedLot[];
  pointsClawedBack: number;
}

export interface RunOptions {
  /** Who the writes are attributed to (`actorRef(principal)`, `import`). */
  actor: string;
  log: Logger;
  /** The members' balances, locked by the caller (every member of `keys`, and those `coLocked` asked for). */
  balances: Map<string, MemberBalance>;
  /**
   * A hot path's batch (recordOrder): the points the run credits (`earn`) go into it, for the caller to write in its one
   * statement with the order, instead of through the ORM's unit of work. Contributors see no difference.
   */
  batch?: LedgerBatch;
}

/** The terms of every earning: the settings row and the rules in force; `extra`: more columns of the caller's. */
export const termsSql = (extra = '') => `select ${extra ? `${extra},` : ''}
    (select to_jsonb(s) from programme_settings s where s.id = 1) as settings,
    (select coalesce(jsonb_agg(to_jsonb(r) order by r.kind, r.priority desc), '[]'::jsonb)
       from earning_rule r where r.superseded_at is null and r.is_active) as rules`;

/**
 * `termsSql` for a process that caches the terms: the version of the terms (`earning_terms_version`, bumped by a
 * trigger in the transaction of every change to the settings or the rules), and the terms themselves only when that
 * version is not the cached one (the last parameter). The extra columns' parameters come first.
 */
export const versionedTermsSql = (extra = '') => `with terms_version as materialized (select version from earning_terms_version where id = 1)
  select ${extra ? `${extra},` : ''}
    (select version::text from terms_version) as terms_version,
    case when (select version from terms_version) is not distinct from ?::bigint then null else
      (select to_jsonb(s) from programme_settings s where s.id = 1) end as settings,
    case when (select version from terms_version) is not distinct from ?::bigint then null else
      (select coalesce(jsonb_agg(to_jsonb(r) order by r.kind, r.priority desc), '[]'::jsonb)
         from earning_rule r where r.superseded_at is null and r.is_active) end as rules`;

export class EarningPipeline {
  private readonly contributors: EarningContributor<any>[] = [];
  /** Contributors a plugin registered, by owner (`plugin "x"`): their failures are guarded (EarningRun.guard). */
  private readonly owners = new Map<EarningContributor<any>, string>();

  /** Set once at composition (`lend`), before the first run. */
  private tools: ContributorTools | null = null;

  /**
   * The terms as last read, with their version. Used only when the statement that reads the version (`readTerms`, run
   * on every use) finds it unchanged, so a cached read is the same as reading the terms in that statement: an order
   * whose read starts after a change committed earns under the new terms, as without the cache.
   */
  private cachedTerms: { version: string; terms: EarningTerms } | null = null;

  constructor(
    private readonly ledger: LedgerService,
    private readonly events: EventService,
  ) {}

  /** Hands the contributors what other modules lend them (ContributorTools); at composition. */
  lend(tools: ContributorTools): this {
    this.tools = tools;
    return this;
  }

  /**
   * Adds a stage. At composition, before the first run; a name may be registered once. `owner` (`plugin "x"`) marks a
   * plugin's contributor: an unexpected error it throws rolls the use case back as EARNING_FAILED, naming it.
   */
  register<S>(contributor: EarningContributor<S>, owner?: string): this {
    if (this.contributors.some((c) => c.name === contributor.name)) throw new Error(`earning contributor "${contributor.name}" is registered already`);
    this.contributors.push(contributor);
    if (owner) this.owners.set(contributor, owner);
    return this;
  }

  /** The contributors' names, in registration order. */
  get contributorNames(): string[] {
    return this.contributors.map((c) => c.name);
  }

  /**
   * The programme's settings and the earning rules in force, in one statement, with `extra` columns of the caller's
   * (recordOrder's replay check). None of it is member data: it may be read before the transaction.
   */
  async readTerms<X extends Record<string, unknown> = Record<string, never>>(em: EntityManager, extra?: { columns: string; params: unknown[] }): Promise<EarningTerms & { extra: X }> {
    const cached = this.cachedTerms;
    const [row] = await runPrepared<Record<string, unknown> & { terms_version: string | null; settings: Record<string, unknown> | null; rules: Record<string, unknown>[] | null }>(
      em,
      versionedTermsSql(extra?.columns),
      [...(extra?.params ?? []), cached?.version ?? null, cached?.version ?? null],
    );
    const { settings, rules, terms_version: version, ...rest } = row;
    if (cached && version !== null && version === cached.version && !settings) return { ...cached.terms, extra: rest as X };
    if (!settings) throw new Error('programme_settings row 1 is missing (run the migrations)');
    // Mapped in a context of their own: the cached entities are shared, read-only, by every request of this process.
    const own = em.fork({ clear: true });
    const terms = { settings: own.map(ProgrammeSettings, settings), rules: (rules ?? []).map((r) => own.map(EarningRule, r)) };
    // Without a version row (a truncated table) nothing is cached: every read reads the terms.
    this.cachedTerms = version === null ? null : { version, terms };
    return { ...terms, extra: rest as X };
  }

  /** The members `coLocked` asks to lock with these (not among them), for the caller to lock first, in id order. */
  async coLocked(em: EntityManager, memberIds: readonly string[]): Promise<string[]> {
    const out = new Set<string>();
    for (const c of this.contributors) {
      if (!c.coLocked) continue;
      const ids = await guarded(c, this.owners.get(c), null, () => c.coLocked!(em, memberIds));
      for (const id of ids) if (!memberIds.includes(id)) out.add(id);
    }
    return [...out];
  }

  /**
   * The one statement of a run's reads, for `keys` (also what bench/explain.mjs explains). `extra`: more columns of the
   * caller's, read in the same statement (recordOrder's member status, once it holds the member's lock).
   */
  readStatement(
    terms: EarningTerms,
    keys: readonly ReadKey[],
    kinds: readonly EarningEventKind[],
    extra?: { columns: string; params: unknown[] },
  ): { sql: string; params: unknown[]; readers: EarningContributor<any>[] } | null {
    const readers = this.contributors.filter((c) => c.read && (!c.read.kinds || c.read.kinds.some((k) => kinds.includes(k))));
    if ((readers.length === 0 && !extra) || keys.length === 0) return null;
    const selects = readers.map((c) => (typeof c.read!.select === 'function' ? c.read!.select(terms) : c.read!.select) ?? 'null::jsonb');
    const ctes = readers.flatMap((c) => Object.entries(c.read!.with ?? {}).map(([name, sql]) => `${name} as materialized (${sql})`));
    const shared = readers.map((c) => c.read!.shared ?? 'null::jsonb');
    const sql = `with earning_keys as materialized (
        select * from jsonb_to_recordset(?::jsonb) as k(member_id uuid, at_from timestamptz, at_to timestamptz, placed_from timestamptz, placed_to timestamptz)
      )${ctes.map((c) => `, ${c}`).join('')}
      select (select coalesce(jsonb_agg(jsonb_build_array(k.member_id${selects.map((s) => `, (${s})`).join('')})), '[]'::jsonb) from earning_keys k) as members,
        jsonb_build_array(${shared.map((s) => `(${s})`).join(', ')}) as shared${extra ? `, ${extra.columns}` : ''}`;
    const params = [
      JSON.stringify(keys.map((k) => ({ member_id: k.memberId, at_from: k.atFrom, at_to: k.atTo, placed_from: k.placedFrom, placed_to: k.placedTo }))),
      ...(extra?.params ?? []),
    ];
    return { sql, params, readers };
  }

  /**
   * Starts a run: gathers every contributor's reads for `keys` in one statement (with the balances already locked by the
   * caller; the reads may lock rows of their own, such as the member's tier row).
   */
  async start(em: EntityManager, terms: EarningTerms, keys: readonly ReadKey[], kinds: readonly EarningEventKind[], options: RunOptions): Promise<EarningRun> {
    return (await this.startWith(em, terms, keys, kinds, options)).run;
  }

  /**
   * `start`, with `extra` columns of the caller's read in the run's one statement (their values returned): a hot path's
   * reads that need the same locks. On a batch run (`options.batch`) the statement is a prepared one.
   */
  async startWith<X extends Record<string, unknown> = Record<string, never>>(
    em: EntityManager,
    terms: EarningTerms,
    keys: readonly ReadKey[],
    kinds: readonly EarningEventKind[],
    options: RunOptions,
    extra?: { columns: string; params: unknown[] },
  ): Promise<{ run: EarningRun; extra: X }> {
    const run = new EarningRun(em, terms, this.contributors, this.ledger, this.events, options, this.owners, this.tools);
    const statement = this.readStatement(terms, keys, kinds, extra);
    let extraValues = {} as X;
    // A contributor whose read the run leaves out (or a member without a key) starts from an undefined state.
    if (statement) {
      type Row = { members: [string, ...unknown[]][]; shared: unknown[] } & Record<string, unknown>;
      const [row] = options.batch ? await runPrepared<Row>(em, statement.sql, statement.params) : await em.execute<Row[]>(statement.sql, statement.params);
      const { members: _members, shared: _shared, ...rest } = row;
      extraValues = rest as X;
      const byMember = new Map(row.members.map(([id, ...values]) => [id, values]));
      for (const key of keys) {
        const values = byMember.get(key.memberId) ?? [];
        for (const [i, c] of statement.readers.entries()) {
          run.setState(c, key.memberId, run.guard(c, () => c.read!.parse(values[i] ?? null, key, run, row.shared[i] ?? null)));
        }
      }
    }
    return { run, extra: extraValues };
  }
}

/**
 * Runs a contributor's hook; for a plugin's (`owner` set), an error that does not pass through is logged and becomes
 * EARNING_FAILED: the caller's transaction rolls back whole, so an order is credited by every stage or not at all.
 */
function guarded<T>(c: EarningContributor<any>, owner: string | undefined, log: Logger | null, hook: () => T): T {
  if (!owner) return hook();
  const fail = (err: unknown): never => {
    if (passesThrough(err)) throw err;
    log?.error({ err, contributor: c.name, owner }, 'earning.contributor_failed');
    throw new AppError('EARNING_FAILED', `The earning contributor "${c.name}" of ${owner} failed; nothing was written`, { contributor: c.name });
  };
  try {
    const result = hook();
    return (result instanceof Promise ? result.catch(fail) : result) as T;
  } catch (err) {
    return fail(err);
  }
}

/** The span of a member's events, as `start` takes it. */
export function readKey(memberId: string, events: readonly { at: Date; placedAt: Date }[]): ReadKey {
  const at = events.map((e) => e.at.getTime());
  const placed = events.map((e) => e.placedAt.getTime());
  return {
    memberId,
    atFrom: new Date(Math.min(...at)),
    atTo: new Date(Math.max(...at)),
    placedFrom: new Date(Math.min(...placed)),
    placedTo: new Date(Math.max(...placed)),
  };
}

/** One run of the pipeline: its members' states, its writes, and the events for the caller to record. */
export class EarningRun {
  private readonly writes = new Map<string, LedgerWrite[]>();
  /** Outbox events for the caller to record with its own (an import drops them: history is not news). */
  readonly events: PendingEvent[] = [];
  /** Multipliers the contributors' `benefits` gave for the order being credited (the base rules apply them). */
  benefits: BenefitMultiplier[] = [];
  private readonly states = new Map<EarningContributor<any>, Map<string, unknown>>();
  private readonly scratches = new Map<EarningContributor<any>, unknown>();
  private readonly contributors: readonly EarningContributor<any>[];
  private outcome: EventOutcome | null = null;
  /** The order being credited and its member: an ORDER_EARN lot earned for that member belongs to the order. */
  private crediting: { memberId: string; orderId: string } | null = null;

  constructor(
    readonly em: EntityManager,
    readonly terms: EarningTerms,
    /** In registration order. */
    private readonly registered: readonly EarningContributor<any>[],
    private readonly ledger: LedgerService,
    private readonly eventService: EventService,
    private readonly options: RunOptions,
    private readonly owners: ReadonlyMap<EarningContributor<any>, string> = new Map(),
    private readonly lent: ContributorTools | null = null,
  ) {
    // A stable sort: ties keep their registration order.
    this.contributors = [...registered].sort((a, b) => a.stage - b.stage);
  }

  get actor(): string {
    return this.options.actor;
  }

  /** What other modules lend the contributors (rewards, segments, tiers). */
  get tools(): ContributorTools {
    if (!this.lent) throw new Error('earning run: no contributor tools were lent at composition (EarningPipeline.lend)');
    return this.lent;
  }

  get log(): Logger {
    return this.options.log;
  }

  /** Runs a hook of `contributor`: a plugin's failure becomes EARNING_FAILED (see `guarded`). */
  guard<T>(contributor: EarningContributor<any>, hook: () => T): T {
    return guarded(contributor, this.owners.get(contributor), this.options.log, hook);
  }

  /** Whether the run holds this member's balance lock. */
  holdsLock(memberId: string): boolean {
    return this.options.balances.has(memberId);
  }

  balanceOf(memberId: string): MemberBalance {
    const bal = this.options.balances.get(memberId);
    if (!bal) throw new Error(`earning run: member ${memberId} is not locked`);
    return bal;
  }

  /** The ledger rows written for the member during the run, in order. */
  writesOf(memberId: string): readonly LedgerWrite[] {
    return this.writes.get(memberId) ?? [];
  }

  /** The member's balance, locked now if the run does not hold it yet (a referrer whose bonus a return reverses). */
  async lock(memberId: string): Promise<MemberBalance> {
    const held = this.options.balances.get(memberId);
    if (held) return held;
    const bal = await this.ledger.lock(this.em, memberId);
    this.options.balances.set(memberId, bal);
    return bal;
  }

  setState(contributor: EarningContributor<any>, memberId: string, state: unknown): void {
    let byMember = this.states.get(contributor);
    if (!byMember) this.states.set(contributor, (byMember = new Map()));
    byMember.set(memberId, state);
  }

  stateOf<S>(contributor: EarningContributor<S>, memberId: string): S {
    return this.states.get(contributor)?.get(memberId) as S;
  }

  /** Every member's state of a contributor in this run. */
  statesOf<S>(contributor: EarningContributor<S>): Iterable<S> {
    return (this.states.get(contributor)?.values() ?? []) as Iterable<S>;
  }

  /** A contributor's state for the whole run (budgets locked once per batch, say), made on first use. */
  scratch<T>(contributor: EarningContributor<any>, init: () => T): T {
    if (!this.scratches.has(contributor)) this.scratches.set(contributor, init());
    return this.scratches.get(contributor) as T;
  }

  /**
   * Points earned as a lot (LedgerService.earn), seen by later stages, with its points.earned event. Pending for the
   * programme's pendingDays (an order's return window) unless `available`: points no return can take back (an activity).
   * While an order is credited, an ORDER_EARN lot for its member is the order's (PointLot.orderId): a return of the
   * order claws back from it, as from the order's own lot, before touching the member's other points.
   */
  earn(memberId: string, points: number, cause: Cause & { at: Date }, reason = LedgerReason.ORDER_EARN, options: { available?: boolean } = {}): EarnedLot | null {
    const settings = this.terms.settings;
    const pendingDays = options.available ? 0 : settings.pendingDays;
    const orderId = reason === LedgerReason.ORDER_EARN && this.crediting?.memberId === memberId ? this.crediting.orderId : null;
    const terms = { at: cause.at, pendingDays, expiryMonths: settings.lotExpiryMonths, orderId };
    const batch = this.options.batch;
    const lot = batch
      ? this.ledger.earnInto(batch, this.balanceOf(memberId), points, cause, terms, reason)
      : this.ledger.earn(this.em, this.balanceOf(memberId), points, cause, terms, reason);
    if (!lot) return null;
    this.wrote({ memberId, reason, lifetimeDelta: points, at: cause.at });
    this.outcome?.lots.push(lot);
    this.emit(
      EventType.POINTS_EARNED,
      { memberId, points: lot.points, sourceType: lot.sourceType, sourceId: lot.sourceId, lotId: lot.id, isPending: lot.state === LotState.PENDING, availableAt: lot.availableAt.toISOString(), expiresAt: lot.expiresAt.toISOString() },
      { memberId, occurredAt: cause.at },
    );
    return lot;
  }

  /** Points taken back (LedgerService.clawback) from `lots` first (an order's: ReturnEarningEvent.orderLots), seen by later stages. */
  async clawback(memberId: string, points: number, lots: PointLot | readonly PointLot[] | null, cause: Cause & { at: Date }, reason = LedgerReason.RETURN_CLAWBACK): Promise<void> {
    if (points <= 0) return;
    await this.ledger.clawback(this.em, await this.lock(memberId), points, lots === null ? [] : Array.isArray(lots) ? lots : [lots as PointLot], cause, reason);
    this.wrote({ memberId, reason, lifetimeDelta: -points, at: cause.at });
    if (this.outcome) this.outcome.pointsClawedBack += reason === LedgerReason.RETURN_CLAWBACK ? points : 0;
  }

  emit<T extends EventType>(type: T, payload: EventPayloads[T], options: { memberId: string | null; occurredAt: Date }): void {
    this.events.push(this.eventService.pending(type, payload, options));
  }

  /** `emit` for a plugin's event type (defineEventType), recorded with the run's events in the order they happened. */
  emitEvent<P extends object>(type: EventTypeDefinition<P>, payload: P, options: { memberId: string | null; occurredAt: Date; dedupeKey?: string }): void {
    this.events.push(this.eventService.pendingEvent(type, payload, options));
  }

  /** Credits an order: benefits, then every stage, then each contributor's bookkeeping. */
  async order(event: OrderEarningEvent): Promise<EventOutcome> {
    return this.track(async () => {
      this.crediting = { memberId: event.memberId, orderId: event.order.id };
      try {
        this.benefits = this.registered.flatMap((c) => (c.benefits ? this.guard(c, () => c.benefits!(event, this.stateOf(c, event.memberId), this)) : []));
        for (const c of this.contributors) if (c.onOrder) await this.guard(c, () => c.onOrder!(event, this.stateOf(c, event.memberId), this));
        for (const c of this.contributors) if (c.afterOrder) this.guard(c, () => c.afterOrder!(event, this.stateOf(c, event.memberId), this));
      } finally {
        this.crediting = null;
      }
    });
  }

  async return(event: ReturnEarningEvent): Promise<EventOutcome> {
    return this.track(async () => {
      for (const c of this.contributors) if (c.onReturn) await this.guard(c, () => c.onReturn!(event, this.stateOf(c, event.memberId), this));
    });
  }

  async activity(event: ActivityEarningEvent): Promise<EventOutcome> {
    return this.track(async () => {
      for (const c of this.contributors) if (c.onActivity) await this.guard(c, () => c.onActivity!(event, this.stateOf(c, event.memberId), this));
    });
  }

  /**
   * The contributors' own writes, then the unit of work: orders, lines, ledger rows, lots and balances together. A batch
   * run leaves the unit of work to its caller, who writes the batch in its own statement (the transaction flushes what
   * the contributors left in the unit of work before it commits).
   */
  async flush(): Promise<void> {
    for (const c of this.contributors) if (c.flush) await this.guard(c, () => c.flush!(this));
    if (!this.options.batch) await this.em.flush();
  }

  private wrote(write: LedgerWrite): void {
    const list = this.writes.get(write.memberId);
    if (list) list.push(write);
    else this.writes.set(write.memberId, [write]);
  }

  private async track(work: () => Promise<void>): Promise<EventOutcome> {
    const outcome: EventOutcome = { lots: [], pointsClawedBack: 0 };
    this.outcome = outcome;
    try {
      await work();
    } finally {
      this.outcome = null;
    }
    return outcome;
  }
}
