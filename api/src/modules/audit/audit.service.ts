import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../../base/context';
import { actorRef } from '../auth/principal';
import { AuditEntry } from './audit-entry.entity';

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

  /** Erasure must not leave personal data in earlier audit rows about the same member. */
  async redactEntity(em: EntityManager, entityType: string, entityId: string): Promise<number> {
    return em.nativeUpdate(
      AuditEntry,
      { entityType, entityId },
      { before: { redacted: true }, after: { redacted: true } },
    );
  }
}
