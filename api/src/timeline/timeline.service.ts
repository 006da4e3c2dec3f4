import type { EntityClass } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError } from '../shared/errors';
import { isUuid } from '../shared/ids';
import { checkPageSize } from '../shared/pagination';
import { Permission } from '../auth/permissions';
import type { Principal } from '../auth/principal';
import { Order } from '../orders/order.entity';
import { LedgerEntry } from '../ledger/ledger-entry.entity';
import { Redemption } from '../rewards/redemption.entity';
import { TierChange } from '../tiers/member-tier.entity';
import { Feedback } from '../feedback/feedback.entity';
import { CampaignMember, CampaignMessage } from '../campaigns/campaign.entity';
import { type TimelineConnection, type TimelineEntry, TimelineEntryType } from './timeline.types';

/**
 * One kind of timeline entry: a table with `id` and `member_id`, and the column saying when it happened. Adding a
 * source (campaign contacts, messages) is one entry here, a TimelineEntryType value and its entity in the node union.
 */
interface TimelineSource {
  type: TimelineEntryType;
  table: string;
  /** SQL over the source's alias `s`. */
  occurredAt: string;
  entity: EntityClass<{ id: string }>;
  /** Needed on top of the timeline's own permission; callers without it do not see these entries. */
  permission?: Permission;
  /** A uuid unique per row, for tables keyed otherwise (default `s.id`). */
  id?: string;
  /** Loads the page's rows by those ids when the entity has no `id` (default: find by id). */
  load?: (em: EntityManager, memberId: string, ids: string[]) => Promise<Array<[string, object]>>;
}

/** A campaign_member row is keyed by (campaign, member); the timeline names it by a uuid made from both. */
const CAMPAIGN_MEMBER_ID = `md5(s.campaign_id::text || ':' || s.member_id::text)::uuid`;

async function loadCampaignMembers(em: EntityManager, memberId: string, ids: string[]): Promise<Array<[string, object]>> {
  const keys = await em.execute<{ id: string; campaign_id: string; member_id: string }[]>(
    `select ${CAMPAIGN_MEMBER_ID} as id, s.campaign_id, s.member_id from campaign_member s
     where s.member_id in (select id from member where id = ? or merged_into_id = ?) and ${CAMPAIGN_MEMBER_ID} in (?)`,
    [memberId, memberId, ids],
  );
  const rows = await em.find(CampaignMember, { $or: keys.map((k) => ({ campaignId: k.campaign_id, memberId: k.member_id })) });
  return keys.map((k) => [k.id, rows.find((r) => r.campaignId === k.campaign_id && r.memberId === k.member_id)!]);
}

const SOURCES: readonly TimelineSource[] = [
  { type: TimelineEntryType.ORDER, table: 'customer_order', occurredAt: 's.placed_at', entity: Order },
  { type: TimelineEntryType.LEDGER, table: 'ledger_entry', occurredAt: 's.created_at', entity: LedgerEntry },
  { type: TimelineEntryType.REDEMPTION, table: 'redemption', occurredAt: 's.created_at', entity: Redemption },
  { type: TimelineEntryType.TIER_CHANGE, table: 'tier_change', occurredAt: 's.changed_at', entity: TierChange },
  { type: TimelineEntryType.FEEDBACK, table: 'feedback', occurredAt: 's.given_at', entity: Feedback, permission: Permission.FEEDBACK_READ },
  {
    type: TimelineEntryType.CAMPAIGN_CONTACT,
    table: 'campaign_member',
    // Treated members when the offer or message was recorded for them, others when they were assigned at launch.
    occurredAt: 'coalesce(s.contacted_at, s.assigned_at)',
    entity: CampaignMember as never,
    permission: Permission.CAMPAIGNS_READ,
    id: CAMPAIGN_MEMBER_ID,
    load: loadCampaignMembers,
  },
  { type: TimelineEntryType.MESSAGE, table: 'campaign_message', occurredAt: 's.created_at', entity: CampaignMessage, permission: Permission.CAMPAIGNS_READ },
];

/** A position in the timeline: the entry's moment to the microsecond (as PostgreSQL stores it), type and id. */
interface Position {
  at: string;
  type: TimelineEntryType;
  id: string;
}

const AT_TEXT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const encode = (p: Position) => Buffer.from(`t:${p.at}|${p.type}|${p.id}`).toString('base64url');

function decode(cursor: string): Position {
  const [at, type, id] = Buffer.from(cursor, 'base64url').toString('utf8').replace(/^t:/, '').split('|');
  if (!AT_TEXT.test(at ?? '') || !Object.values(TimelineEntryType).includes(type as TimelineEntryType) || !isUuid(id ?? '')) {
    throw AppError.badInput([{ path: 'after', message: 'is not a timeline cursor from this API' }]);
  }
  return { at, type: type as TimelineEntryType, id };
}

/** A member's history across domains, newest first: one UNION ALL statement plus one load per kind on the page. */
export class TimelineService {
  /**
   * Keyset pagination on (occurredAt desc, type desc, id desc): each source contributes at most `first + 1` rows after
   * the cursor through its (member_id, time) index, so a page costs the same however long the history is. Records of
   * members merged into this one are included.
   */
  async page(em: EntityManager, principal: Principal | null, memberId: string, first: number, after: string | null): Promise<TimelineConnection> {
    checkPageSize(first);
    const from = after ? decode(after) : null;
    const sources = SOURCES.filter((s) => !s.permission || principal?.permissions.has(s.permission));
    // The member and the records merged into it; usually one. One branch per record and source keeps every branch a
    // backward scan of its (member_id, time) index that stops after `first + 1` rows.
    const merged = await em.execute<{ id: string }[]>(`select id from member where merged_into_id = ?`, [memberId]);
    const owners = [memberId, ...merged.map((r) => r.id)];
    const params: unknown[] = [];
    const branches = sources.flatMap((s) =>
      owners.map((owner) => {
        const id = s.id ?? 's.id';
        params.push(owner);
        // After the cursor in (time, type, id) descending order; the type is fixed per branch, so the condition is on time.
        let keyset = '';
        if (from && s.type === from.type) (keyset = `and (${s.occurredAt}, ${id}) < (?::timestamptz, ?::uuid)`), params.push(from.at, from.id);
        else if (from) (keyset = `and ${s.occurredAt} ${s.type < from.type ? '<=' : '<'} ?::timestamptz`), params.push(from.at);
        params.push(first + 1);
        return `(select ${s.occurredAt} as occurred_at, '${s.type}'::text as type, ${id} as id from ${s.table} s
          where s.member_id = ? ${keyset}
          order by 1 desc, 3 desc limit ?)`;
      }),
    );
    params.push(first + 1);
    const rows = await em.execute<{ at: string; occurred_at: Date; type: TimelineEntryType; id: string }[]>(
      `select to_char(t.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at, t.occurred_at, t.type, t.id
       from (${branches.join(' union all ')}) t
       order by t.occurred_at desc, t.type collate "C" desc, t.id desc limit ?`,
      params,
    );

    const hasNextPage = rows.length > first;
    const page = rows.slice(0, first);
    const nodes = new Map<string, object>();
    for (const source of sources) {
      const ids = page.filter((r) => r.type === source.type).map((r) => r.id);
      if (ids.length === 0) continue;
      const loaded = source.load
        ? await source.load(em, memberId, ids)
        : (await em.find(source.entity, { id: { $in: ids } } as never)).map((node): [string, object] => [node.id, node]);
      for (const [id, node] of loaded) nodes.set(`${source.type}:${id}`, node);
    }
    const edges = page.map((r) => ({
      cursor: encode({ at: r.at, type: r.type, id: r.id }),
      node: { type: r.type, occurredAt: new Date(r.occurred_at), node: nodes.get(`${r.type}:${r.id}`) } as TimelineEntry,
    }));
    return {
      edges,
      pageInfo: { hasNextPage, hasPreviousPage: Boolean(after), startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
    };
  }
}
