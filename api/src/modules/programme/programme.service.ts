import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../../base/context';
import type { AuditService } from '../audit/audit.service';
import { ProgrammeSettings } from './programme-settings.entity';
import type { UpdateProgrammeSettingsInput } from './programme.types';

export class ProgrammeService {
  constructor(private readonly audit: AuditService) {}

  settings(em: EntityManager): Promise<ProgrammeSettings> {
    return em.findOneOrFail(ProgrammeSettings, 1);
  }

  async update(ctx: Context, input: UpdateProgrammeSettingsInput): Promise<ProgrammeSettings> {
    return ctx.em.transactional(async (em) => {
      // Locked: of two changes at once, the second starts from the first's result (its audit entry's `before`).
      const settings = await em.findOneOrFail(ProgrammeSettings, 1, { lockMode: LockMode.PESSIMISTIC_WRITE });
      const before = { ...settings };
      const changes = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined && v !== null));
      em.assign(settings, changes);
      this.audit.record(em, ctx, { action: 'programme.update', entityType: 'ProgrammeSettings', entityId: '1', before, after: changes });
      return settings;
    });
  }
}
