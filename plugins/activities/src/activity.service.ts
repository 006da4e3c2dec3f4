import { createHash } from 'node:crypto';
import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError, DAY_MS, type Context, type FieldProblem, type PluginServices, type SalesChannelKind } from '@loyalty/api/extension-api';
import { ActivityErrors, MAX_AGE_DAYS, MAX_FUTURE_MINUTES } from './activity-definitions';
import { Activity } from './activity.entity';
import { ActivityType } from './activity-type.entity';
import { expectActivity } from './activity-earning';
import { checkedAttributes } from './attributes';
import type { ActivityPage, ActivityTypeStats, CreateActivityTypeInput, RecordActivityInput, UpdateActivityTypeInput } from './activity.types';

const sha256 = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');
const MAX_PAGE = 100;

function checkPageSize(first: number): void {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw AppError.badInput([{ path: 'first', message: `must be between 1 and ${MAX_PAGE}` }]);
}

/** A page from up to `first + 1` rows, newest first: the extra row only says there is more. */
function pageOf(rows: Activity[], first: number): ActivityPage {
  const nodes = rows.slice(0, first);
  return { nodes, hasNextPage: rows.length > first, endCursor: nodes.length ? encodeCursor(nodes[nodes.length - 1]) : null };
}
const MAX_STATS_DAYS = 366;

/** The caller's channel (a key's), or none for an admin. */
function channelOf(ctx: Context): { id: string | null; kind: SalesChannelKind | null } {
  const p = ctx.principal;
  return p?.kind === 'channel' ? { id: p.channelId, kind: p.channelKind } : { id: null, kind: null };
}

const snapshot = (t: ActivityType) => ({
  code: t.code,
  name: t.name,
  description: t.description,
  points: t.points,
  capPerDay: t.capPerDay,
  capPerWeek: t.capPerWeek,
  capLifetime: t.capLifetime,
  minGapMinutes: t.minGapMinutes,
  tierCodes: t.tierCodes,
  segmentId: t.segmentId,
  channelKinds: t.channelKinds,
  isActive: t.isActive,
});

/** The cursor of a page of activities: the last one's (occurredAt, id). */
const encodeCursor = (a: Activity) => Buffer.from(`a:${a.occurredAt.toISOString()}|${a.id}`, 'utf8').toString('base64url');
function decodeCursor(cursor: string): { occurredAt: Date; id: string } {
  const m = /^a:(\d{4}-\d\d-\d\dT[\d:.]+Z)\|([0-9a-f-]{36})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const occurredAt = m ? new Date(m[1]) : null;
  if (!m || !occurredAt || Number.isNaN(occurredAt.getTime())) throw AppError.badInput([{ path: 'after', message: 'is not a cursor from this API' }]);
  return { occurredAt, id: m[2] };
}

/** Member activities and the programme's activity types (docs/activities.md). */
export class ActivityService {
  constructor(private readonly services: PluginServices) {}

  /**
   * Records a member's activity and credits it through the earning pipeline, in one transaction holding the member's
   * balance lock (MemberEventService). Idempotent per channel and idempotencyKey: a replay with the same body returns
   * the stored activity, credited once; another body is CONFLICT/IDEMPOTENCY_KEY_REUSED. The unique index is the guard.
   */
  async record(ctx: Context, input: RecordActivityInput): Promise<Activity> {
    const attributes = checkedAttributes(input.attributes);
    const now = new Date();
    const problems: FieldProblem[] = [];
    if (input.occurredAt && input.occurredAt.getTime() > now.getTime() + MAX_FUTURE_MINUTES * 60_000) {
      problems.push({ path: 'input.occurredAt', message: `must not be more than ${MAX_FUTURE_MINUTES} minutes in the future` });
    }
    if (input.occurredAt && input.occurredAt.getTime() < now.getTime() - MAX_AGE_DAYS * DAY_MS) {
      problems.push({ path: 'input.occurredAt', message: `must not be more than ${MAX_AGE_DAYS} days ago` });
    }
    const idempotencyKey = input.idempotencyKey.trim();
    if (!idempotencyKey) problems.push({ path: 'input.idempotencyKey', message: 'must not be blank' });
    if (problems.length) throw AppError.badInput(problems);

    const channel = channelOf(ctx);
    const key = `${channel.id ?? 'admin'}:${idempotencyKey}`;
    const m = input.member;
    const bodyHash = sha256({
      member: { id: m.id ?? null, identifierType: m.identifierType ?? null, identifierValue: m.identifierValue ?? null },
      type: input.type,
      occurredAt: input.occurredAt ? input.occurredAt.toISOString() : null,
      attributes,
    });
    const replay = async (em: EntityManager): Promise<Activity | null> => {
      const stored = await em.findOne(Activity, { idempotencyKey: key });
      if (stored && stored.bodyHash !== bodyHash) {
        throw AppError.conflict('IDEMPOTENCY_KEY_REUSED', 'An activity with this idempotency key was recorded with different contents', { activityId: stored.id });
      }
      return stored;
    };

    return this.services.memberEvents.record(ctx, {
      member: input.member,
      replay,
      write: async (tx) => {
        // A twin that held the lock before this one has committed: answer with it, without crediting anything.
        const twin = await replay(tx.em);
        if (twin) return twin;
        const type = await tx.em.findOne(ActivityType, { code: input.type, isActive: true });
        if (!type) throw new AppError(ActivityErrors.TYPE_UNKNOWN.code, `No active activity type has the code ${JSON.stringify(input.type)}`, { type: input.type });
        if (!type.admitsChannel(channel.kind)) {
          throw new AppError(ActivityErrors.CHANNEL_NOT_ALLOWED.code, `A ${channel.kind} channel may not record ${type.code}`, {
            type: type.code,
            channelKind: channel.kind,
            allowed: type.channelKinds,
          });
        }
        const activity = tx.em.create(Activity, {
          memberId: tx.memberId,
          activityTypeId: type.id,
          type: type.code,
          channelId: channel.id,
          channelKind: channel.kind,
          idempotencyKey: key,
          bodyHash,
          occurredAt: input.occurredAt ?? tx.at,
          recordedAt: tx.at,
          attributes,
        });
        // The contributor (activities.earn) sets its outcome and points; the run's flush inserts it with them.
        expectActivity(tx.run, activity, type);
        await tx.credit({ activity: type.code, activityId: activity.id, occurredAt: activity.occurredAt, attributes, channelId: channel.id });
        return activity;
      },
    });
  }

  listTypes(em: EntityManager): Promise<ActivityType[]> {
    return em.find(ActivityType, {}, { orderBy: { code: 'asc' } });
  }

  async createType(ctx: Context, input: CreateActivityTypeInput): Promise<ActivityType> {
    await this.checkSegment(ctx.em, input.segmentId);
    try {
      return await ctx.em.transactional(async (em) => {
        const type = em.create(ActivityType, {
          code: input.code,
          name: input.name.trim(),
          description: input.description?.trim() || null,
          points: input.points,
          capPerDay: input.capPerDay ?? null,
          capPerWeek: input.capPerWeek ?? null,
          capLifetime: input.capLifetime ?? null,
          minGapMinutes: input.minGapMinutes ?? null,
          tierCodes: [...new Set(input.tierCodes ?? [])],
          segmentId: input.segmentId ?? null,
          channelKinds: [...new Set(input.channelKinds ?? [])],
          isActive: input.isActive ?? true,
        });
        await em.flush();
        this.services.audit.record(em, ctx, { action: 'activityType.create', entityType: 'ActivityType', entityId: type.id, after: snapshot(type) });
        return type;
      });
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) {
        throw AppError.conflict('IDENTIFIER_TAKEN', 'Another activity type already has this code', { field: 'input.code' });
      }
      throw err;
    }
  }

  async updateType(ctx: Context, input: UpdateActivityTypeInput): Promise<ActivityType> {
    if (input.segmentId) await this.checkSegment(ctx.em, input.segmentId);
    const problems: FieldProblem[] = [];
    for (const field of ['name', 'points', 'tierCodes', 'channelKinds', 'isActive'] as const) {
      if (input[field] === null) problems.push({ path: `input.${field}`, message: 'may be left out, not null' });
    }
    if (problems.length) throw AppError.badInput(problems);
    return ctx.em.transactional(async (em) => {
      // Locked: of two changes at once, the second starts from the first's result (its audit entry's `before` and `after`).
      const type = await em.findOne(ActivityType, { id: input.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!type) throw AppError.notFound('ActivityType', input.id);
      const before = snapshot(type);
      if (input.name != null) type.name = input.name.trim();
      if (input.description !== undefined) type.description = input.description?.trim() || null;
      if (input.points != null) type.points = input.points;
      if (input.capPerDay !== undefined) type.capPerDay = input.capPerDay;
      if (input.capPerWeek !== undefined) type.capPerWeek = input.capPerWeek;
      if (input.capLifetime !== undefined) type.capLifetime = input.capLifetime;
      if (input.minGapMinutes !== undefined) type.minGapMinutes = input.minGapMinutes;
      if (input.tierCodes != null) type.tierCodes = [...new Set(input.tierCodes)];
      if (input.segmentId !== undefined) type.segmentId = input.segmentId;
      if (input.channelKinds != null) type.channelKinds = [...new Set(input.channelKinds)];
      if (input.isActive != null) type.isActive = input.isActive;
      type.updatedAt = new Date();
      await em.flush();
      this.services.audit.record(em, ctx, { action: 'activityType.update', entityType: 'ActivityType', entityId: type.id, before, after: snapshot(type) });
      return type;
    });
  }

  /** A member's activities, newest first, `first` at a time. */
  async ofMember(em: EntityManager, memberId: string, first: number, after: string | null): Promise<ActivityPage> {
    checkPageSize(first);
    const from = after ? decodeCursor(after) : null;
    const rows = await em.find(
      Activity,
      from ? { memberId, $or: [{ occurredAt: { $lt: from.occurredAt } }, { occurredAt: from.occurredAt, id: { $lt: from.id } }] } : { memberId },
      { orderBy: { occurredAt: 'desc', id: 'desc' }, limit: first + 1 },
    );
    return pageOf(rows, first);
  }

  /**
   * The first page of each of many members (a page of members asking for their activities), in the order of
   * `memberIds`: one statement for the ids, one for the rows, however many members.
   */
  async firstPagesOf(em: EntityManager, memberIds: readonly string[], first: number): Promise<ActivityPage[]> {
    checkPageSize(first);
    const ids = await em.execute<{ id: string }[]>(
      `select a.id from unnest(array[?]::uuid[]) as m(id)
       cross join lateral (select x.id from activity_record x where x.member_id = m.id order by x.occurred_at desc, x.id desc limit ?) a`,
      [memberIds as string[], first + 1],
    );
    const rows = ids.length ? await em.find(Activity, { id: { $in: ids.map((r) => r.id) } }, { orderBy: { occurredAt: 'desc', id: 'desc' } }) : [];
    const byMember = new Map<string, Activity[]>(memberIds.map((id) => [id, []]));
    for (const row of rows) byMember.get(row.memberId)?.push(row);
    return memberIds.map((id) => pageOf(byMember.get(id)!, first));
  }

  /** Per type, what was recorded and credited with occurredAt in [from, to): every type, including those with none. */
  async stats(em: EntityManager, from: Date, to: Date): Promise<ActivityTypeStats[]> {
    const problems: FieldProblem[] = [];
    if (!(to.getTime() > from.getTime())) problems.push({ path: 'to', message: 'must be after from' });
    else if (to.getTime() - from.getTime() > MAX_STATS_DAYS * DAY_MS) problems.push({ path: 'to', message: `must be at most ${MAX_STATS_DAYS} days after from` });
    if (problems.length) throw AppError.badInput(problems);
    const rows = await em.execute<Array<Omit<ActivityTypeStats, 'isActive'> & { is_active: boolean }>>(
      `select t.code as type, t.name, t.is_active,
         count(a.id)::int as recorded,
         count(a.id) filter (where a.outcome = 'CREDITED')::int as credited,
         coalesce(sum(a.points), 0)::float8 as points,
         count(distinct a.member_id)::int as members
       from activity_type t
       left join activity_record a on a.type = t.code and a.occurred_at >= ? and a.occurred_at < ?
       group by t.id
       order by t.code`,
      [from, to],
    );
    return rows.map(({ is_active, ...r }) => ({ ...r, isActive: is_active }));
  }

  /** A segment a type names must be a saved one (deleted ones hold no one). */
  private async checkSegment(em: EntityManager, segmentId: string | null | undefined): Promise<void> {
    if (!segmentId) return;
    try {
      await this.services.segments.get(em, segmentId);
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND') throw AppError.badInput([{ path: 'input.segmentId', message: 'is not a saved segment' }]);
      throw err;
    }
  }
}
