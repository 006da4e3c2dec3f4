import { createHash } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import type { Logger } from '../../base/logger';
import { SalesChannelKind } from '../../base/enums';
import { AppError } from '../../base/errors';
import { newId } from '../../base/ids';
import type { ApiKeyService } from '../channels/api-key.service';
import type { ProgrammeService } from '../programme/programme.service';
import type { EarningRuleService } from '../earning/earning-rule.service';
import type { OrderService } from '../orders/order.service';
import type { LedgerService } from '../ledger/ledger.service';
import { SalesChannel } from '../channels/sales-channel.entity';
import { IdentifierType } from '../members/member-identifier.entity';
import { MemberBalance } from '../ledger/member-balance.entity';
import { PointLot } from '../ledger/point-lot.entity';
import { orderLotsInClawbackOrder } from '../ledger/ledger.service';
import { EarningEventKind, readKey, type EarningPipeline, type EarningRun } from '../earning/pipeline';
import { OrderStatus } from '../orders/order.entity';
import { applyReturnLines } from '../orders/order.service';
import type { PointsBreakdownItem } from '../earning/earning.types';
import type { ReturnedLine } from '../orders/order.types';
import { MAX_ORDER_TOTAL_MINOR } from '../../base/bounds';
import { invoiceKey, parseRow, RejectReason, type ParsedLine, type RowResult } from './rows';
import type { SourceRecord, SourceRow } from './source';

export const IMPORT_ACTOR = 'import';

/** The services the importer calls, as composition hands them over. */
export interface ImporterServices {
  apiKeys: ApiKeyService;
  programme: ProgrammeService;
  earningRules: EarningRuleService;
  orders: OrderService;
  ledger: LedgerService;
  earning: EarningPipeline;
}

/**
 * The rows to import. They are read twice: a first pass finds the invoices whose lines are not next to each other,
 * the second imports. A function is called once for each pass and must give the same rows both times (the CLI opens
 * the file again); rows given as an array or an iterable are held in memory for the second pass.
 */
export type ImportRows =
  | Iterable<SourceRecord>
  | AsyncIterable<SourceRecord>
  | ((pass: 'scan' | 'import') => AsyncIterable<SourceRecord> | Promise<AsyncIterable<SourceRecord>>);

export interface ImportOptions {
  channelName: string;
  channelKind: SalesChannelKind;
  currency: string;
  /** Invoices per transaction; the result does not depend on it. */
  batchInvoices: number;
  /** Added to every invoice date (the demo seed moves old data to the recent past). */
  shiftMs?: number;
  onReject?: (reject: Reject) => void;
  onBatch?: (progress: ImportProgress) => void;
  /** Stops after the batch in flight commits, as a kill between batches would. */
  signal?: AbortSignal;
}

export interface Reject {
  line: number;
  reason: RejectReason;
  detail?: string;
  row: SourceRow;
}

export interface ImportProgress {
  rowsRead: number;
  batches: number;
}

export interface ImportSummary {
  channelId: string;
  rowsRead: number;
  linesImported: number;
  orders: number;
  guestOrders: number;
  /** Returns written (one per matched earlier order and return invoice). */
  returns: number;
  returnInvoices: number;
  pointsEarned: number;
  pointsClawedBack: number;
  unmatchedReturnUnits: number;
  membersCreated: number;
  /** Invoices found already imported (a re-run). */
  invoicesSkipped: number;
  rejects: Record<string, number>;
  isComplete: boolean;
  /** Milliseconds spent in each step of the batch writes (where the time goes). */
  phaseMs: Record<string, number>;
  seconds: number;
  rowsPerSecond: number;
}

interface Invoice {
  invoice: string;
  isReturn: boolean;
  placedAt: Date;
  customerId: string | null;
  country: string | null;
  lines: ParsedLine[];
  rows: SourceRow[];
}

/** What a committed batch adds to the summary, and the rejects it found. */
interface BatchResult {
  counts: { orders: number; guestOrders: number; returns: number; returnInvoices: number; lines: number; members: number; skipped: number; earned: number; clawed: number; unmatched: number };
  rejects: Reject[];
}

/** Thrown to roll back a trial write (writeBatch with isTrial). */
const TRIAL = Symbol('trial write');

/** An error of the importer's own about one invoice's rows. */
class InvoiceWriteError extends Error {}

/** A member of the batch was merged away between its lookup and its lock; nothing was written, the batch runs again. */
class MembersChanged extends Error {}

/** Times a batch runs again after its members changed under it (each time, a merge committed meanwhile). */
const MEMBERS_CHANGED_ATTEMPTS = 3;

/** An order as the batch keeps it: read from the database (a return's candidate) or created in this batch. */
interface OrderState {
  id: string;
  isNew: boolean;
  isTouched: boolean;
  externalOrderId: string;
  memberId: string | null;
  currency: string;
  channelKind: SalesChannelKind;
  placedAt: Date;
  subtotalMinor: number;
  totalMinor: number;
  returnedMinor: number;
  status: OrderStatus;
  pointsEarned: number;
  pointsClawedBack: number;
  pointsBasisMinor: number;
  returnedAtCreditMinor: number;
  pointsBreakdown: PointsBreakdownItem[];
  /** Only the lines a return may need (all of them for an order of this batch). */
  lines: LineState[];
  /** Units not yet returned on the whole order: 0 makes it RETURNED. */
  unitsLeft: number;
  /** The lots the order earned its member, in the order a return claws back from them. */
  lots?: PointLot[];
}

interface LineState {
  lineNo: number;
  sku: string;
  productId: string;
  quantity: number;
  unitPriceMinor: number;
  totalMinor: number;
  netMinor: number;
  returnedQuantity: number;
  category: string | null;
  brand: string | null;
}

interface ReturnRow {
  id: string;
  orderId: string;
  externalReturnId: string;
  lines: ReturnedLine[];
  valueMinor: number;
  pointsClawedBack: number;
  createdAt: Date;
}

/** What return matching needs of one member during a batch (what earning needs, the pipeline keeps: EarningRun). */
interface MemberState {
  id: string;
  /** The member's orders a return of the batch may take units from: its candidates, and the batch's own orders. */
  orders: OrderState[];
}

const sha256 = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');
const json = (value: unknown) => JSON.stringify(value);

/**
 * Bulk import of a transactions file into orders, credited by the API's own earning pipeline (modules/earning/pipeline.ts):
 * the same contributors (base rules and caps, tier and plan multipliers, campaign bonuses, referral credit and
 * reversal, tier evaluation) and return matching by `applyReturnLines`, applied at each order's own time. A batch is
 * one run of the pipeline: its reads gathered once for all its members, its writes flushed together.
 *
 * An invoice is all its lines in the file, wherever they are: a first pass over the rows finds the invoices whose
 * lines are apart, and each of those is held until its last line has been read. Invoices are written in the order
 * of their last lines, in batches of `batchInvoices`, one transaction each, so the result does not depend on the
 * batch size. An invoice already stored for the channel is skipped, so a re-run completes an interrupted import and
 * adds nothing twice.
 */
export class TransactionImporter {
  private summary!: ImportSummary;
  private channel!: { id: string; kind: SalesChannelKind };
  private currency = 'GBP';
  private statsBase = 0;
  private statsRows = 0;

  constructor(
    private readonly rootEm: EntityManager,
    private readonly services: ImporterServices,
    private readonly log: Logger,
  ) {}

  async run(rows: ImportRows, options: ImportOptions): Promise<ImportSummary> {
    const started = Date.now();
    this.channel = await this.ensureChannel(options);
    this.currency = options.currency;
    const [lines] = await this.rootEm.fork().getConnection().execute<{ n: number }[]>(`select greatest(reltuples, 0)::int as n from pg_class where relname = 'order_line'`);
    this.statsBase = this.statsRows = lines?.n ?? 0;
    this.summary = {
      channelId: this.channel.id,
      rowsRead: 0,
      linesImported: 0,
      orders: 0,
      guestOrders: 0,
      returns: 0,
      returnInvoices: 0,
      pointsEarned: 0,
      pointsClawedBack: 0,
      unmatchedReturnUnits: 0,
      membersCreated: 0,
      invoicesSkipped: 0,
      rejects: {},
      isComplete: false,
      phaseMs: {},
      seconds: 0,
      rowsPerSecond: 0,
    };
    const now = Date.now();
    const open = await readTwice(rows);
    const apart = await this.timed('scan', async () => invoicesApart(await open('scan'), options.signal));
    let batch: Invoice[] = [];
    let batches = 0;
    // One batch is written while the next one is parsed.
    let inFlight: Promise<void> = Promise.resolve();
    let failure: unknown = null;
    const flush = async (invoices: Invoice[]) => {
      await inFlight;
      if (options.signal?.aborted) return;
      inFlight = this.writeIsolating(invoices, options).then(async () => {
        batches++;
        // Tables grow from empty during a first import: fresh statistics keep the per-batch lookups on their
        // indexes. Refreshed each time this run has doubled the order lines since the last statistics.
        if (this.statsBase + this.summary.linesImported > 2 * this.statsRows) {
          await this.timed('analyze', () => this.analyze());
          this.statsRows = this.statsBase + this.summary.linesImported;
        }
        options.onBatch?.({ rowsRead: this.summary.rowsRead, batches });
      });
      // Handled here so that a failed batch cannot crash the process while the next one is parsed; awaited below.
      inFlight.catch((err: unknown) => (failure ??= err));
    };

    // Invoices still being read, and those complete (a later line of one means the file changed since the scan).
    const reading = new Map<string, Invoice>();
    const complete = new Set<string>();
    const finish = async (key: string) => {
      const inv = reading.get(key);
      if (!inv) return;
      reading.delete(key);
      complete.add(key);
      const problem = this.invoiceProblem(inv);
      if (problem) {
        inv.lines.forEach((l, i) => this.reject(options, { line: l.line, ...problem, row: inv.rows[i] }));
        return;
      }
      batch.push(inv);
      if (batch.length >= options.batchInvoices) {
        const full = batch;
        batch = [];
        await flush(full);
      }
    };

    let stopped = false;
    let ordinal = 0;
    let current = '';
    for await (const { line, row, unreadable } of await open('import')) {
      if (failure) break;
      if (options.signal?.aborted) {
        stopped = true;
        break;
      }
      this.summary.rowsRead++;
      ordinal++;
      const key = unreadable ? '' : invoiceKey(row);
      if (key !== current) {
        if (!apart.has(current)) await finish(current);
        current = key;
      }
      const parsed: RowResult = unreadable ? { ok: false, reason: unreadable } : parseRow(line, row, now, options.shiftMs);
      if (!parsed.ok) this.reject(options, { line, reason: parsed.reason, detail: parsed.detail, row });
      else this.gather(reading, complete, parsed.value, row, options);
      if (apart.get(key) === ordinal) await finish(key);
    }
    if (!stopped && !failure && !options.signal?.aborted) {
      for (const key of [...reading.keys()]) await finish(key);
      if (batch.length) await flush(batch);
    }
    await inFlight;
    if (failure) throw failure;
    this.summary.isComplete = !stopped && !options.signal?.aborted;
    this.summary.seconds = Math.round((Date.now() - started) / 100) / 10;
    this.summary.rowsPerSecond = Math.round(this.summary.rowsRead / Math.max((Date.now() - started) / 1000, 0.001));
    return this.summary;
  }

  /** Adds a valid line to its invoice, or rejects it when it contradicts the invoice. */
  private gather(open: Map<string, Invoice>, complete: Set<string>, p: ParsedLine, row: SourceRow, options: ImportOptions) {
    if (complete.has(p.invoice)) return this.reject(options, { line: p.line, reason: RejectReason.SPLIT_INVOICE, row });
    const inv = open.get(p.invoice);
    if (!inv) {
      open.set(p.invoice, { invoice: p.invoice, isReturn: p.isReturn, placedAt: p.placedAt, customerId: p.customerId, country: p.country, lines: [p], rows: [row] });
      return;
    }
    // The first line says whose invoice it is and when it was placed (dates of one invoice may differ by a minute).
    if (p.customerId !== inv.customerId) return this.reject(options, { line: p.line, reason: RejectReason.OTHER_CUSTOMER, row });
    inv.lines.push(p);
    inv.rows.push(row);
  }

  /**
   * An order's bounds (base/bounds.ts), which only the whole invoice can break. A return's value comes from the orders
   * it matches. The API's limit on lines per request does not apply: history is imported as it was (the Online Retail
   * file has wholesale invoices of up to 1,100 lines), and its total is what must fit.
   */
  private invoiceProblem(inv: Invoice): { reason: RejectReason; detail: string } | null {
    if (inv.isReturn) return null;
    const total = inv.lines.reduce((s, l) => s + l.quantity * l.unitPriceMinor, 0);
    return total > MAX_ORDER_TOTAL_MINOR ? { reason: RejectReason.INVOICE_TOO_LARGE, detail: `total ${total}` } : null;
  }

  private async analyze(): Promise<void> {
    await this.rootEm
      .fork()
      .getConnection()
      .execute('analyze customer_order, order_line, order_return, member, member_identifier, member_balance, ledger_entry, point_lot, product, member_tier');
  }

  private async timed<T>(phase: string, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await fn();
    } finally {
      this.addTime(phase, performance.now() - started);
    }
  }

  private addTime(phase: string, ms: number) {
    this.summary.phaseMs[phase] = Math.round((this.summary.phaseMs[phase] ?? 0) + ms);
  }

  /** Bound parameters (em.execute would inline megabytes of JSON into the SQL text). */
  private async bulk(em: EntityManager, sql: string, params: unknown[]): Promise<void> {
    const trx = em.getTransactionContext<Knex.Transaction>();
    if (!trx) throw new Error('import: bulk writes run inside the batch transaction');
    await trx.raw(sql, params as Knex.RawBinding[]);
  }

  private reject(options: ImportOptions, reject: Reject): void {
    this.summary.rejects[reject.reason] = (this.summary.rejects[reject.reason] ?? 0) + 1;
    options.onReject?.(reject);
  }

  private async ensureChannel(options: ImportOptions): Promise<{ id: string; kind: SalesChannelKind }> {
    const em = this.rootEm.fork();
    const found = await em.findOne(SalesChannel, { name: options.channelName.trim() });
    if (found) {
      if (found.kind !== options.channelKind) this.log.warn({ channel: found.name, kind: found.kind }, 'import.channel-kind-kept');
      return { id: found.id, kind: found.kind };
    }
    const created = await this.services.apiKeys.createChannel(em, null, { name: options.channelName, kind: options.channelKind });
    return { id: created.id, kind: created.kind };
  }

  /**
   * Writes a batch, isolating what cannot be written: when the batch fails because of its rows (a data error of the
   * database, or of the importer's own checks), its invoices are written again one at a time; an invoice that still
   * fails has each of its lines tried alone in a transaction that is rolled back, and the lines that fail are rejected
   * ("row could not be written", with a message that names the kind of error but no statement or value) while the
   * rest of the invoice is written; an invoice whose lines pass alone but not together is rejected whole. Any other
   * error (connection, deadlock, an error in the importer's statements) stops the run, and a re-run resumes it.
   */
  private async writeIsolating(invoices: Invoice[], options: ImportOptions): Promise<void> {
    const failed = await this.tryWrite(invoices, options);
    if (!failed) return;
    this.log.warn({ invoices: invoices.length, fromLine: invoices[0].lines[0].line, error: safeWriteError(failed) }, 'import.batch-isolating');
    for (const inv of invoices) {
      const err = invoices.length === 1 ? failed : await this.tryWrite([inv], options);
      if (!err) continue;
      const bad = new Map<number, string>();
      if (inv.lines.length > 1) {
        for (let i = 0; i < inv.lines.length; i++) {
          const lineErr = await this.tryWrite([{ ...inv, lines: [inv.lines[i]], rows: [inv.rows[i]] }], options, true);
          if (lineErr) bad.set(i, safeWriteError(lineErr));
        }
      }
      const rest = { ...inv, lines: inv.lines.filter((_, i) => !bad.has(i)), rows: inv.rows.filter((_, i) => !bad.has(i)) };
      const restErr = bad.size === 0 ? err : rest.lines.length ? await this.tryWrite([rest], options) : null;
      for (const [i, detail] of bad) this.reject(options, { line: inv.lines[i].line, reason: RejectReason.WRITE_FAILED, detail, row: inv.rows[i] });
      if (restErr) rest.lines.forEach((l, i) => this.reject(options, { line: l.line, reason: RejectReason.WRITE_FAILED, detail: safeWriteError(restErr), row: rest.rows[i] }));
    }
  }

  /** Writes and counts the invoices (a trial is rolled back); null when done, the error when it is one of the rows'. */
  private async tryWrite(invoices: Invoice[], options: ImportOptions, isTrial = false): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.writeBatch(invoices, isTrial);
        this.count(result, options);
        return null;
      } catch (err) {
        if (err === TRIAL) return null;
        if (err instanceof MembersChanged && attempt < MEMBERS_CHANGED_ATTEMPTS) continue;
        if (!isRowError(err)) throw err;
        return err;
      }
    }
  }

  private count({ counts, rejects }: BatchResult, options: ImportOptions): void {
    const s = this.summary;
    s.orders += counts.orders;
    s.guestOrders += counts.guestOrders;
    s.returns += counts.returns;
    s.returnInvoices += counts.returnInvoices;
    s.linesImported += counts.lines;
    s.membersCreated += counts.members;
    s.invoicesSkipped += counts.skipped;
    s.pointsEarned += counts.earned;
    s.pointsClawedBack += counts.clawed;
    s.unmatchedReturnUnits += counts.unmatched;
    for (const r of rejects) this.reject(options, r);
  }

  /** The invoices in one transaction; what to count once it has committed. A trial is rolled back (throws TRIAL). */
  private async writeBatch(all: Invoice[], isTrial: boolean): Promise<BatchResult> {
    const counts = { orders: 0, guestOrders: 0, returns: 0, returnInvoices: 0, lines: 0, members: 0, skipped: 0, earned: 0, clawed: 0, unmatched: 0 };
    const rejects: Reject[] = [];
    const em = this.rootEm.fork();
    const started = performance.now();
    await em.transactional(async (tx) => {
      const invoices = await this.timed('skipStored', () => this.withoutStored(tx, all));
      counts.skipped = all.length - invoices.length;
      const kept = new Set(invoices);
      for (const u of await this.timed('skipStored', () => this.unmatchedOfStored(tx, all.filter((i) => i.isReturn && !kept.has(i))))) {
        counts.unmatched += u.quantity;
        rejects.push({ line: u.line.line, reason: RejectReason.UNMATCHED_RETURN, detail: `${u.quantity} of ${u.line.quantity} unmatched`, row: u.row });
      }
      if (invoices.length === 0) return;
      const sales = invoices.filter((i) => !i.isReturn);
      const returns = invoices.filter((i) => i.isReturn);

      const products = await this.timed('products', () => this.upsertProducts(tx, sales, this.currency));
      const { members, erased, created } = await this.timed('members', () => this.resolveMembers(tx, invoices));
      counts.members = created;
      const terms = await this.timed('programme', () => this.services.earning.readTerms(tx));
      const memberIds = [...new Set(members.values())].sort();
      const { states, balances, erasedSince } = await this.timed('lock', () => this.lockMembers(tx, memberIds));
      for (const [customerId, memberId] of members) if (erasedSince.has(memberId)) erased.add(customerId);
      const byMember = new Map<string, Invoice[]>();
      for (const inv of invoices) {
        const id = inv.customerId ? members.get(inv.customerId) : undefined;
        const list = id ? byMember.get(id) : undefined;
        if (list) list.push(inv);
        else if (id) byMember.set(id, [inv]);
      }
      const kinds = [...(sales.length ? [EarningEventKind.ORDER] : []), ...(returns.length ? [EarningEventKind.RETURN] : [])];
      const keys = [...byMember].map(([id, list]) => readKey(id, list.map((i) => ({ at: i.placedAt, placedAt: i.placedAt }))));
      const run = await this.timed('earningReads', () => this.services.earning.start(tx, terms, keys, kinds, { actor: IMPORT_ACTOR, log: this.log, balances }));
      await this.timed('returnCandidates', () => this.loadReturnCandidates(tx, returns, members, states));

      const newOrders: OrderState[] = [];
      const newReturns: ReturnRow[] = [];
      const rulesStarted = performance.now();
      for (const inv of invoices) {
        if (inv.customerId && erased.has(inv.customerId)) {
          inv.lines.forEach((l, i) => rejects.push({ line: l.line, reason: RejectReason.ERASED_MEMBER, row: inv.rows[i] }));
          continue;
        }
        const state = inv.customerId ? states.get(members.get(inv.customerId) ?? '') ?? null : null;
        if (!inv.isReturn) {
          const order = await this.sale(inv, state, products, run);
          newOrders.push(order);
          counts.orders++;
          counts.lines += order.lines.length;
          if (!state) counts.guestOrders++;
          counts.earned += order.pointsEarned;
        } else {
          const result = await this.applyReturn(inv, state, run);
          newReturns.push(...result.returns);
          counts.returns += result.returns.length;
          if (result.returns.length) counts.returnInvoices++;
          counts.clawed += result.returns.reduce((s, r) => s + r.pointsClawedBack, 0);
          for (const u of result.unmatched) {
            counts.unmatched += u.quantity;
            rejects.push({ line: u.line.line, reason: RejectReason.UNMATCHED_RETURN, detail: `${u.quantity} of ${u.line.quantity} unmatched`, row: u.row });
          }
        }
      }
      this.addTime('rules', performance.now() - rulesStarted);
      await this.timed('writeOrders', () => this.writeOrders(tx, newOrders, [...states.values()], newReturns));
      await this.timed('flushLedger', () => run.flush());
      if (isTrial) throw TRIAL;
    });
    this.addTime('batchTotal', performance.now() - started);
    return { counts, rejects };
  }

  /** Invoices of the channel already stored (orders by idempotency key, returns by return id) are skipped. */
  private async withoutStored(em: EntityManager, invoices: Invoice[]): Promise<Invoice[]> {
    const sales = invoices.filter((i) => !i.isReturn).map((i) => `${this.channel.id}:${i.invoice}`);
    const returns = invoices.filter((i) => i.isReturn).map((i) => i.invoice);
    const stored = new Set<string>();
    if (sales.length) {
      const rows = await em.execute<{ id: string }[]>(`select external_order_id as id from customer_order where idempotency_key in (?)`, [sales]);
      rows.forEach((r) => stored.add(r.id));
    }
    if (returns.length) {
      const rows = await em.execute<{ id: string }[]>(
        `select distinct r.external_return_id as id from order_return r join customer_order o on o.id = r.order_id
         where o.channel_id = ? and r.external_return_id in (?)`,
        [this.channel.id, returns],
      );
      rows.forEach((r) => stored.add(r.id));
    }
    return stored.size ? invoices.filter((i) => !stored.has(i.invoice)) : invoices;
  }

  /**
   * The units of return invoices stored by an earlier run (skipped now) that no stored return covers, so that every run
   * reports a file's unmatched return units, not only those of returns nothing of which matched. That run matched each
   * line in file order, taking every free unit of its SKU before leaving any unmatched: handing the stored units of a
   * SKU to its lines in the same order finds the lines it left unmatched, and how many units of each.
   */
  private async unmatchedOfStored(em: EntityManager, returns: Invoice[]): Promise<{ line: ParsedLine; quantity: number; row: SourceRow }[]> {
    if (returns.length === 0) return [];
    const rows = await em.execute<{ id: string; sku: string; quantity: number }[]>(
      `select r.external_return_id as id, ol.sku, sum((x.l->>'quantity')::int)::int as quantity
       from order_return r join customer_order o on o.id = r.order_id
       cross join jsonb_array_elements(r.lines) x(l)
       join order_line ol on ol.order_id = r.order_id and ol.line_no = (x.l->>'lineNo')::int
       where o.channel_id = ? and r.external_return_id in (?) group by 1, 2`,
      [this.channel.id, returns.map((i) => i.invoice)],
    );
    const left = new Map(rows.map((r) => [json([r.id, r.sku]), r.quantity]));
    const unmatched: { line: ParsedLine; quantity: number; row: SourceRow }[] = [];
    for (const inv of returns) {
      inv.lines.forEach((l, i) => {
        const key = json([inv.invoice, l.sku]);
        const covered = Math.min(left.get(key) ?? 0, l.quantity);
        left.set(key, (left.get(key) ?? 0) - covered);
        if (covered < l.quantity) unmatched.push({ line: l, quantity: l.quantity - covered, row: inv.rows[i] });
      });
    }
    return unmatched;
  }

  /** Unknown SKUs become products from their first line (as recordOrder does); known ones keep the catalogue's data. */
  private async upsertProducts(em: EntityManager, sales: Invoice[], currency: string): Promise<Map<string, ProductRef>> {
    const first = new Map<string, ParsedLine>();
    for (const inv of sales) for (const l of inv.lines) if (!first.has(l.sku)) first.set(l.sku, l);
    if (first.size === 0) return new Map();
    const rows = [...first.values()].map((l) => ({ id: newId(), sku: l.sku, name: l.name, price_minor: l.unitPriceMinor, currency }));
    await this.bulk(
      em,
      `insert into product (id, sku, name, category, brand, price_minor, currency, created_at)
       select x.id, x.sku, x.name, null, null, x.price_minor, x.currency, now()
       from jsonb_to_recordset(?::jsonb) as x(id uuid, sku text, name text, price_minor int, currency text)
       on conflict (sku) do nothing`,
      [json(rows)],
    );
    const found = await em.execute<{ id: string; sku: string; category: string | null; brand: string | null }[]>(
      `select p.id, p.sku, p.category, p.brand from product p join jsonb_array_elements_text(?::jsonb) s(sku) on s.sku = p.sku`,
      [json([...first.keys()])],
    );
    return new Map(found.map((p) => [p.sku, { id: p.id, category: p.category, brand: p.brand }]));
  }

  /**
   * Each customer id is a member identified by the channel's own customer id; one first seen on an order is
   * enrolled then, on that order's date, with the row's country. Merged members resolve to their survivor.
   */
  private async resolveMembers(em: EntityManager, invoices: Invoice[]): Promise<{ members: Map<string, string>; erased: Set<string>; created: number }> {
    const ids = [...new Set(invoices.map((i) => i.customerId).filter((c): c is string => c !== null))];
    const members = new Map<string, string>();
    const erased = new Set<string>();
    if (ids.length === 0) return { members, erased, created: 0 };
    const found = await em.execute<{ value: string; member_id: string; status: string; merged_into_id: string | null }[]>(
      `select i.value, m.id as member_id, m.status, m.merged_into_id from member_identifier i join member m on m.id = i.member_id
       where i.type = ? and i.scope = ? and i.value in (?)`,
      [IdentifierType.CHANNEL_CUSTOMER_ID, this.channel.id, ids],
    );
    for (const f of found) {
      let id = f.member_id;
      let status = f.status;
      let next = f.merged_into_id;
      for (let hops = 0; status === 'MERGED' && next && hops < 10; hops++) {
        const [m] = await em.execute<{ id: string; status: string; merged_into_id: string | null }[]>('select id, status, merged_into_id from member where id = ?', [next]);
        id = m.id;
        status = m.status;
        next = m.merged_into_id;
      }
      if (status === 'ERASED') erased.add(f.value);
      else members.set(f.value, id);
    }
    const fresh: { id: string; customerId: string; country: string | null; enrolledAt: Date }[] = [];
    for (const inv of invoices) {
      if (inv.isReturn || !inv.customerId || members.has(inv.customerId) || erased.has(inv.customerId)) continue;
      const id = newId();
      members.set(inv.customerId, id);
      fresh.push({ id, customerId: inv.customerId, country: inv.country, enrolledAt: inv.placedAt });
    }
    if (fresh.length) {
      await this.bulk(
        em,
        `insert into member (id, status, country, enrolment_channel, enrolled_at, updated_at)
         select x.id, 'ACTIVE', x.country, ?, x.enrolled_at, now() from jsonb_to_recordset(?::jsonb) as x(id uuid, country text, enrolled_at timestamptz)`,
        [this.channel.kind, json(fresh.map((f) => ({ id: f.id, country: f.country, enrolled_at: f.enrolledAt })))],
      );
      await this.bulk(
        em,
        `insert into member_identifier (id, member_id, type, scope, value, created_at)
         select x.id, x.member_id, ?, ?, x.value, now() from jsonb_to_recordset(?::jsonb) as x(id uuid, member_id uuid, value text)`,
        [IdentifierType.CHANNEL_CUSTOMER_ID, this.channel.id, json(fresh.map((f) => ({ id: newId(), member_id: f.id, value: f.customerId })))],
      );
    }
    return { members, erased, created: fresh.length };
  }

  /**
   * Locks the balances of the batch's members, and of those the earning contributors credit with them (a referrer),
   * once, in id order.
   */
  private async lockMembers(
    em: EntityManager,
    memberIds: string[],
  ): Promise<{ states: Map<string, MemberState>; balances: Map<string, MemberBalance>; erasedSince: Set<string> }> {
    const states = new Map<string, MemberState>();
    const balances = new Map<string, MemberBalance>();
    const erasedSince = new Set<string>();
    if (memberIds.length === 0) return { states, balances, erasedSince };
    const all = [...new Set([...memberIds, ...(await this.services.earning.coLocked(em, memberIds))])].sort();
    await em.execute(
      `insert into member_balance (member_id, available, pending, lifetime, updated_at)
       select x.id::uuid, 0, 0, 0, now() from jsonb_array_elements_text(?::jsonb) x(id) order by 1 on conflict do nothing`,
      [json(all)],
    );
    for (const bal of await em.find(MemberBalance, { member: { $in: all } }, { lockMode: LockMode.PESSIMISTIC_WRITE, orderBy: { member: 'asc' } })) balances.set(bal.member.id, bal);
    // resolveMembers read the statuses before these locks were ours: an erasure or a merge that took a member's lock in
    // between has committed now, and its status is the one to act on (a statement's snapshot is taken after the lock).
    const changed = await em.execute<{ id: string; status: string }[]>(`select id, status from member where id in (?) and status <> 'ACTIVE'`, [memberIds]);
    for (const { id, status } of changed) {
      if (status === 'ERASED') erasedSince.add(id);
      // Its orders and points now belong to the survivor: the batch is written again, resolving to it.
      else throw new MembersChanged();
    }
    for (const id of memberIds) states.set(id, { id, orders: [] });
    return { states, balances, erasedSince };
  }

  private storedOrder(r: Record<string, any>): OrderState {
    return {
      id: r.id,
      isNew: false,
      isTouched: false,
      externalOrderId: r.external_order_id ?? '',
      memberId: r.member_id,
      currency: r.currency ?? '',
      channelKind: r.channel_kind ?? this.channel.kind,
      placedAt: new Date(r.placed_at),
      subtotalMinor: r.subtotal_minor ?? 0,
      totalMinor: r.total_minor,
      returnedMinor: r.returned_minor,
      status: r.status ?? OrderStatus.COMPLETED,
      pointsEarned: r.points_earned,
      pointsClawedBack: r.points_clawed_back ?? 0,
      pointsBasisMinor: r.points_basis_minor ?? 0,
      returnedAtCreditMinor: r.returned_at_credit_minor ?? 0,
      pointsBreakdown: [],
      lines: [],
      unitsLeft: r.units_left ?? 0,
    };
  }

  /** A return's candidates: its member's earlier orders on this channel with a unit of one of its SKUs not yet returned. */
  private async loadReturnCandidates(em: EntityManager, returns: Invoice[], members: Map<string, string>, states: Map<string, MemberState>): Promise<void> {
    const memberIds = [...new Set(returns.map((r) => (r.customerId ? members.get(r.customerId) : undefined)).filter((m): m is string => !!m))];
    if (memberIds.length === 0) return;
    const skus = [...new Set(returns.flatMap((r) => r.lines.map((l) => l.sku)))];
    const rows = await em.execute<Record<string, any>[]>(
      `select agg.units_left, o.id, o.external_order_id, o.member_id, o.currency, o.channel_kind, o.placed_at, o.subtotal_minor, o.total_minor, o.returned_minor,
         o.status, o.points_earned, o.points_clawed_back, o.points_basis_minor, o.returned_at_credit_minor,
         l.line_no, l.sku, l.product_id, l.quantity, l.unit_price_minor, l.total_minor as line_total_minor, l.net_minor, l.returned_quantity
       from customer_order o
       -- Laterals keep every lookup on the (order_id, line_no) index (a join would scan all order lines), and only
       -- the lines of the returned SKUs are read, with the units left on the whole order for its status.
       cross join lateral (select 1 from order_line ol where ol.order_id = o.id and ol.sku in (?) and ol.returned_quantity < ol.quantity limit 1) hit
       cross join lateral (select coalesce(sum(x.quantity - x.returned_quantity), 0)::int as units_left from order_line x where x.order_id = o.id) agg
       cross join lateral (select * from order_line x where x.order_id = o.id and x.sku in (?) offset 0) l
       where o.channel_id = ? and o.member_id in (?)
       order by o.id, l.line_no`,
      [skus, skus, this.channel.id, memberIds],
    );
    const byId = new Map<string, OrderState>();
    for (const r of rows) {
      let order = byId.get(r.id);
      if (!order) {
        const state = states.get(r.member_id)!;
        const known = state.orders.find((o) => o.id === r.id);
        order = known ?? this.storedOrder(r);
        Object.assign(order, this.storedOrder(r), { lines: [] });
        if (!known) state.orders.push(order);
        byId.set(r.id, order);
      }
      order.lines.push({
        lineNo: r.line_no,
        sku: r.sku,
        productId: r.product_id,
        quantity: r.quantity,
        unitPriceMinor: r.unit_price_minor,
        totalMinor: r.line_total_minor,
        netMinor: r.net_minor,
        returnedQuantity: r.returned_quantity,
        category: null,
        brand: null,
      });
    }
    if (byId.size) {
      const lots = await em.find(PointLot, { orderId: { $in: [...byId.keys()] } });
      for (const order of byId.values()) {
        order.lots = orderLotsInClawbackOrder(lots.filter((l) => l.orderId === order.id && l.member.id === order.memberId), order.id);
      }
    }
  }

  private async sale(inv: Invoice, state: MemberState | null, products: Map<string, ProductRef>, run: EarningRun): Promise<OrderState> {
    const lines: LineState[] = inv.lines.map((l, i) => {
      const product = products.get(l.sku)!;
      const total = l.quantity * l.unitPriceMinor;
      return {
        lineNo: i + 1,
        sku: l.sku,
        productId: product.id,
        quantity: l.quantity,
        unitPriceMinor: l.unitPriceMinor,
        totalMinor: total,
        netMinor: total,
        returnedQuantity: 0,
        category: product.category,
        brand: product.brand,
      };
    });
    const total = lines.reduce((s, l) => s + l.totalMinor, 0);
    const order: OrderState = {
      id: newId(),
      isNew: true,
      isTouched: true,
      externalOrderId: inv.invoice,
      memberId: state?.id ?? null,
      currency: this.currency,
      channelKind: this.channel.kind,
      placedAt: inv.placedAt,
      subtotalMinor: total,
      totalMinor: total,
      returnedMinor: 0,
      status: OrderStatus.COMPLETED,
      pointsEarned: 0,
      pointsClawedBack: 0,
      pointsBasisMinor: 0,
      returnedAtCreditMinor: 0,
      pointsBreakdown: [],
      lines,
      unitsLeft: lines.reduce((n, l) => n + l.quantity, 0),
    };
    if (state) {
      state.orders.push(order);
      const { lots } = await run.order({ kind: EarningEventKind.ORDER, memberId: state.id, origin: 'IMPORTED', order, lines, at: inv.placedAt });
      // Not a batch run: its lots are the ORM's entities, which a return in the same batch claws back from.
      order.lots = orderLotsInClawbackOrder((lots as PointLot[]).filter((l) => l.orderId === order.id), order.id);
    }
    return order;
  }

  /**
   * Matching policy: each return line takes units of its SKU from the member's latest earlier orders on this channel
   * (placed at or before the return) that still have units of it not returned, newest first, splitting across orders
   * when needed. Each matched order then gets one return, valued and clawed back exactly as recordReturn does.
   */
  private async applyReturn(
    inv: Invoice,
    state: MemberState | null,
    run: EarningRun,
  ): Promise<{ returns: ReturnRow[]; unmatched: { line: ParsedLine; quantity: number; row: SourceRow }[] }> {
    const unmatched: { line: ParsedLine; quantity: number; row: SourceRow }[] = [];
    const wanted = new Map<OrderState, Map<number, number>>();
    const at = inv.placedAt.getTime();
    const candidates = state ? state.orders.filter((o) => o.placedAt.getTime() <= at && o.lines.length).sort((a, b) => b.placedAt.getTime() - a.placedAt.getTime() || (a.externalOrderId < b.externalOrderId ? 1 : -1)) : [];
    inv.lines.forEach((l, i) => {
      let left = l.quantity;
      for (const order of candidates) {
        if (left === 0) break;
        const taken = wanted.get(order) ?? new Map<number, number>();
        for (const line of order.lines) {
          if (left === 0) break;
          if (line.sku !== l.sku) continue;
          const free = line.quantity - line.returnedQuantity - (taken.get(line.lineNo) ?? 0);
          if (free <= 0) continue;
          const take = Math.min(free, left);
          taken.set(line.lineNo, (taken.get(line.lineNo) ?? 0) + take);
          left -= take;
        }
        if (taken.size) wanted.set(order, taken);
      }
      if (left > 0) unmatched.push({ line: l, quantity: left, row: inv.rows[i] });
    });

    const returns: ReturnRow[] = [];
    for (const [order, taken] of wanted) {
      const { returned, problems } = applyReturnLines(order.lines, [...taken].map(([lineNo, quantity]) => ({ lineNo, quantity })));
      if (problems.length) throw new InvoiceWriteError('the return does not fit the order it was matched to');
      const value = returned.reduce((s, r) => s + r.valueMinor, 0);
      order.returnedMinor += value;
      order.unitsLeft -= returned.reduce((n, r) => n + r.quantity, 0);
      order.status = order.unitsLeft === 0 ? OrderStatus.RETURNED : OrderStatus.PARTIALLY_RETURNED;
      order.isTouched = true;
      const ret: ReturnRow = { id: newId(), orderId: order.id, externalReturnId: inv.invoice, lines: returned, valueMinor: value, pointsClawedBack: 0, createdAt: inv.placedAt };
      if (state && order.memberId) {
        const outcome = await run.return({
          kind: EarningEventKind.RETURN,
          memberId: state.id,
          order,
          returnId: ret.id,
          valueMinor: value,
          orderLots: async () => order.lots ?? [],
          at: inv.placedAt,
        });
        ret.pointsClawedBack = outcome.pointsClawedBack;
      }
      returns.push(ret);
    }
    return { returns, unmatched };
  }

  private async writeOrders(em: EntityManager, orders: OrderState[], states: MemberState[], returns: ReturnRow[]): Promise<void> {
    const bulk = (sql: string, params: unknown[]) => this.bulk(em, sql, params);
    if (orders.length) {
      await bulk(
        `insert into customer_order (id, idempotency_key, body_hash, channel_id, channel_kind, external_order_id, member_id, status, currency,
           subtotal_minor, order_discount_minor, total_minor, returned_minor, placed_at, points_earned, points_clawed_back, points_basis_minor,
           returned_at_credit_minor, points_breakdown, created_at)
         select x.id, x.key, x.hash, ?, ?, x.ext, x.member_id, x.status, x.currency, x.total, 0, x.total, x.returned, x.placed_at, x.earned, x.clawed,
           x.basis, x.at_credit, x.breakdown, now()
         from jsonb_to_recordset(?::jsonb) as x(id uuid, key text, hash text, ext text, member_id uuid, status text, currency text, total int,
           returned int, placed_at timestamptz, earned int, clawed int, basis int, at_credit int, breakdown jsonb)`,
        [
          this.channel.id,
          this.channel.kind,
          json(
            orders.map((o) => ({
              id: o.id,
              key: `${this.channel.id}:${o.externalOrderId}`,
              hash: sha256({ ext: o.externalOrderId, memberId: o.memberId, placedAt: o.placedAt, lines: o.lines.map((l) => [l.sku, l.quantity, l.unitPriceMinor]) }),
              ext: o.externalOrderId,
              member_id: o.memberId,
              status: o.status,
              currency: o.currency,
              total: o.totalMinor,
              returned: o.returnedMinor,
              placed_at: o.placedAt,
              earned: o.pointsEarned,
              clawed: o.pointsClawedBack,
              basis: o.pointsBasisMinor,
              at_credit: o.returnedAtCreditMinor,
              breakdown: o.pointsBreakdown,
            })),
          ),
        ],
      );
      // Lines as parallel arrays: the largest statement of an import, and arrays parse faster than objects.
      const cols = { id: [] as string[], order: [] as string[], no: [] as number[], product: [] as string[], sku: [] as string[], qty: [] as number[], unit: [] as number[], total: [] as number[], ret: [] as number[] };
      for (const o of orders) {
        for (const l of o.lines) {
          cols.id.push(newId());
          cols.order.push(o.id);
          cols.no.push(l.lineNo);
          cols.product.push(l.productId);
          cols.sku.push(l.sku);
          cols.qty.push(l.quantity);
          cols.unit.push(l.unitPriceMinor);
          cols.total.push(l.totalMinor);
          cols.ret.push(l.returnedQuantity);
        }
      }
      await bulk(
        `insert into order_line (id, order_id, line_no, product_id, sku, quantity, unit_price_minor, discount_minor, total_minor, net_minor, returned_quantity)
         select x.id, x.order_id, x.line_no, x.product_id, x.sku, x.quantity, x.unit, 0, x.total, x.total, x.ret
         from unnest(?::uuid[], ?::uuid[], ?::int[], ?::uuid[], ?::text[], ?::int[], ?::int[], ?::int[], ?::int[])
           as x(id, order_id, line_no, product_id, sku, quantity, unit, total, ret)`,
        [cols.id, cols.order, cols.no, cols.product, cols.sku, cols.qty, cols.unit, cols.total, cols.ret].map(pgArray),
      );
    }
    const touched = new Map<string, OrderState>();
    for (const s of states) for (const o of s.orders) if (!o.isNew && o.isTouched) touched.set(o.id, o);
    if (touched.size) {
      const list = [...touched.values()];
      await bulk(
        `update customer_order o set returned_minor = x.returned, status = x.status, points_clawed_back = x.clawed
         from jsonb_to_recordset(?::jsonb) as x(id uuid, returned int, status text, clawed int) where o.id = x.id`,
        [json(list.map((o) => ({ id: o.id, returned: o.returnedMinor, status: o.status, clawed: o.pointsClawedBack })))],
      );
      await bulk(
        `update order_line l set returned_quantity = x.ret
         from jsonb_to_recordset(?::jsonb) as x(order_id uuid, line_no int, ret int) where l.order_id = x.order_id and l.line_no = x.line_no and l.returned_quantity <> x.ret`,
        [json(list.flatMap((o) => o.lines.map((l) => ({ order_id: o.id, line_no: l.lineNo, ret: l.returnedQuantity }))))],
      );
    }
    if (returns.length) {
      await bulk(
        `insert into order_return (id, order_id, external_return_id, body_hash, lines, value_minor, points_clawed_back, created_at)
         select x.id, x.order_id, x.ext, x.hash, x.lines, x.value, x.clawed, x.created_at
         from jsonb_to_recordset(?::jsonb) as x(id uuid, order_id uuid, ext text, hash text, lines jsonb, value int, clawed int, created_at timestamptz)`,
        [
          json(
            returns.map((r) => ({
              id: r.id,
              order_id: r.orderId,
              ext: r.externalReturnId,
              hash: sha256({ orderId: r.orderId, externalReturnId: r.externalReturnId, lines: r.lines }),
              lines: r.lines,
              value: r.valueMinor,
              clawed: r.pointsClawedBack,
              created_at: r.createdAt,
            })),
          ),
        ],
      );
    }
  }
}

interface ProductRef {
  id: string;
  category: string | null;
  brand: string | null;
}

/** Rows given once are held for the second pass; a function opens them again. */
async function readTwice(rows: ImportRows): Promise<(pass: 'scan' | 'import') => Promise<AsyncIterable<SourceRecord>>> {
  if (typeof rows === 'function') return async (pass) => rows(pass);
  const held: SourceRecord[] = [];
  for await (const r of rows) held.push(r);
  return async () => fromArray(held);
}

async function* fromArray<T>(items: T[]): AsyncIterable<T> {
  yield* items;
}

/**
 * The invoices whose lines are not all next to each other, with the position (1-based, among the rows) of their last
 * line: the import holds each of them until then. Rows without a usable invoice number separate the rows around them.
 */
async function invoicesApart(records: AsyncIterable<SourceRecord>, signal?: AbortSignal): Promise<Map<string, number>> {
  const last = new Map<string, number>();
  const apart = new Set<string>();
  let previous = '';
  let ordinal = 0;
  for await (const { row, unreadable } of records) {
    if (signal?.aborted) break;
    ordinal++;
    const key = unreadable ? '' : invoiceKey(row);
    if (key) {
      if (key !== previous && last.has(key)) apart.add(key);
      last.set(key, ordinal);
    }
    previous = key;
  }
  return new Map([...apart].map((key) => [key, last.get(key)!]));
}

/** SQLSTATE classes of errors caused by the values written: data exception, integrity constraint, program limit. */
const ROW_ERROR_CLASSES = /^(22|23|54)/;
const SAFE_MESSAGES: Record<string, string> = {
  '22001': 'a text is too long for its column',
  '22003': 'a number is out of range',
  '22008': 'a date is out of range',
  '22021': 'a text has bytes the database cannot store',
  '22P05': 'a text has a character the database cannot store',
  '23502': 'a required value is missing',
  '23503': 'it refers to a row that does not exist',
  '23505': 'it repeats a value that must be unique',
  '23514': 'a check of the database refused it',
};

const sqlStateOf = (err: unknown): string | null => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
};

/** A refusal of the API's own code (the ledger's per-member limit, say) about what one invoice would write. */
const refusalOf = (err: unknown): string | null => {
  if (!(err instanceof AppError)) return null;
  const { code, reason } = err.extensions as { code?: string; reason?: string };
  return code === 'BAD_USER_INPUT' || code === 'CONFLICT' ? [code, reason].filter(Boolean).join(' ') : null;
};

/** Whether a failed write is the rows' fault (so the others can still be written) rather than the database's or the connection's. */
function isRowError(err: unknown): boolean {
  const state = sqlStateOf(err);
  if (state) return ROW_ERROR_CLASSES.test(state);
  return err instanceof InvoiceWriteError || err instanceof TypeError || err instanceof RangeError || refusalOf(err) !== null;
}

/** What went wrong, for the rejects file and the log: the kind of error, never the statement or the values. */
function safeWriteError(err: unknown): string {
  const state = sqlStateOf(err);
  if (state) return `${SAFE_MESSAGES[state] ?? 'the database refused it'} (SQLSTATE ${state})`;
  const refusal = refusalOf(err);
  if (refusal) return `refused: ${refusal}`;
  return err instanceof InvoiceWriteError ? err.message : `unexpected ${(err as Error).name ?? 'error'}`;
}

/** A PostgreSQL array literal, one bound parameter however long (knex would expand a JS array into a list). */
function pgArray(values: (string | number)[]): string {
  if (values.length === 0) return '{}';
  if (typeof values[0] === 'number') return `{${values.join(',')}}`;
  return `{${values.map((v) => `"${String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`;
}
