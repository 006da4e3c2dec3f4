import type { FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../../base/context';
import { AppError, type FieldProblem } from '../../base/errors';
import { isUuid } from '../../base/ids';
import { checkPageSize } from '../../base/pagination';
import { actorRef } from '../auth/principal';
import { AuditEntry } from './audit-entry.entity';

/** What the audit log can be narrowed to; every part optional. */
export interface AuditFilter {
  /** `admin:<id>`, `apiKey:<id>`, `system` or `import`, exactly. */
  actor?: string | null;
  entityType?: string | null;
  entityId?: string | null;
  action?: string | null;
  /** From this instant, inclusive. */
  since?: Date | null;
  /** Before this instant. */
  until?: Date | null;
  /** The last id of the page before: entries older than it. */
  olderThan?: string | null;
  first: number;
}

export interface AuditRecord {
  action: string;
  entityType: string;
  entityId: string;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

export class AuditService {
  /** Adds the row to `em`, so it commits or rolls back with the change it describes. */
  record(em: EntityManager, ctx: Pick<Context, 'principal' | 'requestId'> | null, entry: AuditRecord): AuditEntry {
    return em.create(AuditEntry, {
      actor: actorRef(ctx?.principal ?? null),
      action: entry.action,
      entityType: entry.entityType,
      entityId: entry.entityId,
      before: entry.before ?? null,
      after: entry.after ?? null,
      requestId: ctx?.requestId ?? null,
      createdAt: new Date(),
    });
  }

  /** Newest first. Ids are time-ordered, so `olderThan` pages through in the same order. */
  async search(em: EntityManager, filter: AuditFilter): Promise<AuditEntry[]> {
    checkPageSize(filter.first);
    const problems: FieldProblem[] = [];
    if (filter.since && filter.until && filter.since > filter.until) problems.push({ path: 'until', message: 'must not be before since' });
    if (filter.olderThan && !isUuid(filter.olderThan)) problems.push({ path: 'olderThan', message: 'must be the id of an audit entry' });
    if (problems.length) throw AppError.badInput(problems);
    const createdAt = { ...(filter.since ? { $gte: filter.since } : {}), ...(filter.until ? { $lt: filter.until } : {}) };
    const where: FilterQuery<AuditEntry> = {
      ...(filter.actor ? { actor: filter.actor } : {}),
      ...(filter.entityType ? { entityType: filter.entityType } : {}),
      ...(filter.entityId ? { entityId: filter.entityId } : {}),
      ...(filter.action ? { action: filter.action } : {}),
      ...(Object.keys(createdAt).length ? { createdAt } : {}),
      ...(filter.olderThan ? { id: { $lt: filter.olderThan } } : {}),
    };
    return em.find(AuditEntry, where, { orderBy: { id: 'desc' }, limit: filter.first });
  }

  /** Erasure must not leave personal data in earlier audit rows about the same member. */
  async redactEntity(em: EntityManager, entityType: string, entityId: string): Promise<number> {
    return em.nativeUpdate(
      AuditEntry,
      { entityType, entityId },
      { before: { redacted: true }, after: { redacted: true } },
    );
  }
}
