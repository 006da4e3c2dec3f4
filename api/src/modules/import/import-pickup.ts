import type { Orm } from '../../base/database';
import type { Logger } from '../../base/logger';
import { runPeriodically } from '../../base/periodic';
import type { ImportJobs } from './import-jobs';

const PICK_UP_EVERY_MS = 1000;

/**
 * In a process that runs imports (IMPORT_RUNNER, the default): starts, within a second, an import that a process which
 * does not run them queued. Every such process looks; the import lock lets one of them have it.
 */
export function startImportPickup(orm: Orm, imports: ImportJobs, log: Logger): { close(): Promise<void> } {
  return runPeriodically(PICK_UP_EVERY_MS, () =>
    imports
      .pickUp(orm.em.fork())
      .then(() => undefined)
      .catch((err: unknown) => log.error({ err }, 'import.pick_up_failed')),
  );
}
