import type { Logger } from '../../base/logger';
import { runPeriodically } from '../../base/periodic';

export const PICK_UP_EVERY_MS = 1000;

/**
 * In a process that runs imports (IMPORT_RUNNER, the default): every second, `pickUp` (ImportJobs.pickUp) starts an
 * import that a process which does not run them queued. Every such process looks; the import lock lets one of them
 * have it. A failure (PostgreSQL away) is logged once per outage, not once a second, and its end once.
 */
export function startImportPickup(pickUp: () => Promise<unknown>, log: Logger, everyMs = PICK_UP_EVERY_MS): { close(): Promise<void> } {
  let failing = false;
  return runPeriodically(everyMs, () =>
    pickUp().then(
      () => {
        if (failing) log.info('import.pick_up_recovered');
        failing = false;
      },
      (err: unknown) => {
        if (!failing) log.warn({ err }, 'import.pick_up_failed');
        failing = true;
      },
    ),
  );
}
