import type { EntityClass } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Permission } from '../auth/permissions';
import { Order } from '../orders/order.entity';
import { LedgerEntry } from '../ledger/ledger-entry.entity';
import { Redemption } from '../rewards/redemption.entity';
import { TierChange } from '../tiers/member-tier.entity';
import { Feedback } from '../feedback/feedback.entity';
import { CampaignMember, CampaignMessage } from '../campaigns/campaign.entity';
import { TimelineEntryType } from './timeline.types';

/**
 * One kind of timeline entry: a table with `id` and `member_id`, and the column saying when it happened. Adding a core
 * source (campaign contacts, messages) is one entry here, a TimelineEntryType value and its entity in the node union;
 * a plugin adds one through TimelineSources (timeline-sources.ts).
 */
export interface TimelineSource {
  /** A TimelineEntryType value, or a plugin's kind. */
  type: string;
  /** A table, or a parenthesised `select` with the same columns. */
  table: string;
  /** SQL over the source's alias `s`. */
  occurredAt: string;
  entity: EntityClass<{ id: string }>;
  /** Needed on top of the timeline's own permission; callers without it do not see these entries. */
  permission?: string;
  /** A uuid unique per row, for tables keyed otherwise (default `s.id`). */
  id?: string;
  /** Loads the page's rows by those ids when the entity has no `id` (default: find by id). */
  load?: (em: EntityManager, memberId: string, ids: string[]) => Promise<Array<[string, object]>>;
  /** One line about the entry, for clients that do not know its node type (plugins' entries). */
  summary?: (node: object) => string;
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

const CORE_SOURCES: readonly TimelineSource[] = [
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


/**
 * A kind of timeline entry a plugin adds (activities, challenge completions): rows of a table with `id` and
 * `member_id`, when each happened, and the GraphQL type of its node. The timeline reads the member's newest rows
 * through the source's (member_id, time) index, so give the table one.
 */
export interface TimelineSourceDefinition {
  /** SCREAMING_SNAKE, the TimelineEntryType value of its entries (ACTIVITY). */
  kind: string;
  description: string;
  /** A table, or a parenthesised `select` giving `id`, `member_id` and the time column. */
  table: string;
  /** SQL over the source's alias `s` (`s.occurred_at`). */
  occurredAt: string;
  /** The type-graphql object type of the entries, added to the TimelineNode union; a MikroORM entity unless `load` is given. */
  node: Function;
  /** A permission the caller needs to see these entries, besides the timeline's own. */
  permission?: string;
  /** A uuid per row when the table's key is not `s.id`. */
  id?: string;
  /** Loads the page's rows by id (default: the entity by id). */
  load?: (em: EntityManager, memberId: string, ids: string[]) => Promise<Array<[string, object]>>;
  /** One line for clients that do not know the node's type, such as the admin app's timeline. */
  summary?: (node: object) => string;
}

const KIND = /^[A-Z][A-Z0-9_]{1,39}$/;

/** The sources of one app's member timeline: the core's and the plugins'. */
export class TimelineSources {
  private readonly sources: TimelineSource[] = [...CORE_SOURCES];
  private readonly pluginNodes: Function[] = [];
  private readonly descriptions = new Map<string, string>();

  register(def: TimelineSourceDefinition, owner: string): void {
    const kind = def?.kind;
    const bad = (why: string) => new Error(`timeline source ${JSON.stringify(kind)} of ${owner}: ${why}`);
    if (typeof kind !== 'string' || !KIND.test(kind)) throw bad('the kind must be SCREAMING_SNAKE, 2 to 40 characters');
    if (this.sources.some((s) => s.type === kind)) throw bad('the kind is taken');
    if (typeof def.description !== 'string' || !def.description.trim()) throw bad('needs a description');
    if (typeof def.table !== 'string' || !def.table.trim() || typeof def.occurredAt !== 'string' || !def.occurredAt.trim()) {
      throw bad('needs a table and an occurredAt expression');
    }
    if (typeof def.node !== 'function') throw bad('node must be the object type class of its entries');
    this.sources.push({
      type: kind,
      table: def.table,
      occurredAt: def.occurredAt,
      entity: def.node as EntityClass<{ id: string }>,
      ...(def.permission ? { permission: def.permission } : {}),
      ...(def.id ? { id: def.id } : {}),
      ...(def.load ? { load: def.load } : {}),
      ...(def.summary ? { summary: def.summary } : {}),
    });
    this.pluginNodes.push(def.node);
    this.descriptions.set(kind, def.description);
  }

  list(): readonly TimelineSource[] {
    return this.sources;
  }

  /** Plugins' entry kinds with their descriptions, for the TimelineEntryType enum. */
  pluginKinds(): Array<{ kind: string; description: string }> {
    return [...this.descriptions].map(([kind, description]) => ({ kind, description }));
  }

  /** Plugins' node types, for the TimelineNode union. */
  pluginNodeTypes(): readonly Function[] {
    return this.pluginNodes;
  }
}
