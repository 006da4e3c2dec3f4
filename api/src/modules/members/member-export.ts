import { IsolationLevel } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../../base/context';
import { AppError } from '../../base/errors';
import { rowsForMembers } from '../../base/member-rows';
import type { AuditService } from '../audit/audit.service';

/** One part of a member's data export, from the module that owns those rows: anything JSON can carry. */
export type ExportSection = (em: EntityManager, memberIds: readonly string[]) => Promise<unknown>;

/** Names the export's layout; a later layout gets a new name. */
export const MEMBER_EXPORT_FORMAT = 'loyalty-member-export/1';

export interface MemberDataExport {
  format: string;
  memberId: string;
  /** The member and the records merged into it: the same person. */
  recordIds: string[];
  generatedAt: Date;
  /** Section name → its rows, in registration order (core modules, then plugins as `plugin:<name>`). */
  sections: Record<string, unknown>;
}

/**
 * Everything the platform holds about one person, for a subject access or portability request (GDPR articles 15 and
 * 20). Each module registers the section for its own rows, as it registers its merge and erase steps; this service reads
 * them all in one read-only snapshot, so a merge or an order committing meanwhile is in the export wholly or not at all.
 */
export class MemberExportService {
  private readonly sections = new Map<string, ExportSection>();

  constructor(private readonly audit: AuditService) {
    this.register('profile', (em, ids) =>
      rowsForMembers(em, `select id, status, first_name, last_name, email, phone, country, birthday, preferred_channel, preferred_store_code,
          enrolment_channel, enrolled_at, updated_at, merged_into_id, merged_at, erased_at, referral_code
        from member where id in (:members) order by enrolled_at, id`, ids),
    );
    this.register('identifiers', (em, ids) =>
      rowsForMembers(em, `select member_id, type, scope, value, created_at from member_identifier where member_id in (:members) order by created_at, id`, ids),
    );
    this.register('consents', (em, ids) =>
      rowsForMembers(em, `select member_id, medium, is_granted, granted_at, withdrawn_at, source from member_consent where member_id in (:members) order by medium, member_id`, ids),
    );
    this.register('merges', (em, ids) =>
      rowsForMembers(em, `select survivor_id, absorbed_id, moved_identifiers, created_at from member_merge where survivor_id in (:members) order by created_at, id`, ids),
    );
  }

  /** Adds a section; names are unique (a plugin's are `plugin:<its name>`). */
  register(name: string, section: ExportSection): void {
    if (this.sections.has(name)) throw new Error(`member export section "${name}" is registered twice`);
    this.sections.set(name, section);
  }

  /** The export of a live or erased member (an erased one's is what erasure kept); a merged-away record answers MEMBER_MERGED. */
  async export(ctx: Context, memberId: string): Promise<MemberDataExport> {
    const generatedAt = new Date();
    const { recordIds, sections } = await ctx.em.fork().transactional(
      async (em) => {
        const [member] = await em.execute<{ status: string; merged_into_id: string | null }[]>('select status, merged_into_id from member where id = ?', [memberId]);
        if (!member) throw AppError.notFound('Member', memberId);
        if (member.status === 'MERGED') {
          throw AppError.conflict('MEMBER_MERGED', 'This record was merged; export the surviving member, whose export includes it', { survivorId: member.merged_into_id });
        }
        const absorbed = await em.execute<{ id: string }[]>('select id from member where merged_into_id = ? order by merged_at, id', [memberId]);
        const ids = [memberId, ...absorbed.map((m) => m.id)];
        const out: Record<string, unknown> = {};
        for (const [name, section] of this.sections) out[name] = await section(em, ids);
        return { recordIds: ids, sections: out };
      },
      { isolationLevel: IsolationLevel.REPEATABLE_READ, readOnly: true },
    );
    // Who exported whose data, and when: an export hands personal data out of the platform.
    await ctx.em.fork().transactional(async (em) => {
      this.audit.record(em, ctx, { action: 'member.export', entityType: 'Member', entityId: memberId, after: { format: MEMBER_EXPORT_FORMAT, sections: Object.keys(sections), records: recordIds.length } });
    });
    ctx.log.info({ memberId, records: recordIds.length }, 'member.exported');
    return { format: MEMBER_EXPORT_FORMAT, memberId, recordIds, generatedAt, sections };
  }
}
