import type { Orm } from '../../base/database';
import type { Logger } from '../../base/logger';
import { runPeriodically } from '../../base/periodic';
import type { CampaignService } from './campaign.service';

/**
 * Calls `CampaignService.sweep` every `intervalMs` in this process: starts due campaigns, ends finished ones and
 * delivers pending messages. Several processes may run it: each step claims its rows with skip-locked row locks.
 */
export function startCampaignRunner(orm: Orm, campaigns: CampaignService, intervalMs: number, log: Logger): { close(): Promise<void> } {
  return runPeriodically(intervalMs, () =>
    campaigns
      .sweep(orm.em.fork())
      .then((r) => {
        if (r.started || r.ended || r.messages.sent || r.messages.failed) log.info({ ...r }, 'campaigns.swept');
      })
      .catch((err: unknown) => log.error({ err }, 'campaigns.sweep_failed')),
  );
}
