import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError } from '../../base/errors';
import { isUuid } from '../../base/ids';
import { checkPageSize, isTimeKeyAt, timeKeySql } from '../../base/pagination';
import type { Principal } from '../auth/principal';
import type { TimelineConnection, TimelineEntry } from './timeline.types';
import { TimelineSources } from './timeline-sources';

/** A position in the timeline: the entry's moment to the microsecond (as PostgreSQL stores it), type and id. */
interface Position {
  at: string;
  type: string;
  id: string;
}

const encode = (p: Position) => Buffer.from(`t:${p.at}|${p.type}|${p.id}`).toString('base64url');

function decode(cursor: string, types: ReadonlySet<string>): Position {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  // Exactly what encode writes: the prefix and three parts.
  const [at, type, id, ...rest] = decoded.startsWith('t:') ? decoded.slice(2).split('|') : [];
  if (rest.length || !isTimeKeyAt(at ?? '') || !types.has(type) || !isUuid(id ?? '')) {
    throw AppError.badInput([{ path: 'after', message: 'is not a timeline cursor from this API' }]);
  }
  return { at, type, id };
}

/** A member's history across domains, newest first: one UNION ALL statement plus one load per kind on the page. */
export class TimelineService {
  private readonly typeNames: ReadonlySet<string>;

  /** `sources`: the core's and the plugins' (TimelineSources). */
  constructor(readonly sources: TimelineSources = new TimelineSources()) {
    this.typeNames = new Set(sources.list().map((s) => s.type));
  }

  /**
   * Keyset pagination on (occurredAt desc, type desc, id desc): each source contributes at most `first + 1` rows after
   * the cursor through its (member_id, time) index, so a page costs the same however long the history is. Records of
   * members merged into this one are included.
   */
  async page(em: EntityManager, principal: Principal | null, memberId: string, first: number, after: string | null): Promise<TimelineConnection> {
    checkPageSize(first);
    const from = after ? decode(after, this.typeNames) : null;
    const sources = this.sources.list().filter((s) => !s.permission || principal?.permissions.has(s.permission));
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
    const rows = await em.execute<{ at: string; occurred_at: Date; type: string; id: string }[]>(
      `select ${timeKeySql('t.occurred_at')} as at, t.occurred_at, t.type, t.id
       from (${branches.join(' union all ')}) t
       order by t.occurred_at desc, t.type collate "C" desc, t.id desc limit ?`,
      params,
    );

    const hasNextPage = rows.length > first;
    const page = rows.slice(0, first);
    const nodes = new Map<string, object>();
    const summaries = new Map<string, (node: object) => string>();
    for (const source of sources) {
      const ids = page.filter((r) => r.type === source.type).map((r) => r.id);
      if (ids.length === 0) continue;
      const loaded = source.load
        ? await source.load(em, memberId, ids)
        : (await em.find(source.entity, { id: { $in: ids } } as never)).map((node): [string, object] => [node.id, node]);
      for (const [id, node] of loaded) nodes.set(`${source.type}:${id}`, node);
      if (source.summary) summaries.set(source.type, source.summary);
    }
    const edges = page.map((r) => {
      const node = nodes.get(`${r.type}:${r.id}`)!;
      const summary = summaries.get(r.type);
      return {
        cursor: encode({ at: r.at, type: r.type, id: r.id }),
        node: { type: r.type, occurredAt: new Date(r.occurred_at), node, summary: summary ? summary(node) : null } as TimelineEntry,
      };
    });
    return {
      edges,
      pageInfo: { hasNextPage, hasPreviousPage: Boolean(after), startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
    };
  }
}
