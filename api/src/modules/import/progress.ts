import { SingleBar, Presets } from 'cli-progress';
import type { Logger } from '../../base/logger';

export interface Progress {
  update(rows: number, bytes: number): void;
  stop(): void;
}

const LOG_EVERY_MS = 5_000;

/** A bar with rows, rows/s and ETA on a terminal; otherwise a structured log line every few seconds. */
export function createProgress(isTTY: boolean, totalBytes: number, log: Logger): Progress {
  const started = Date.now();
  const rate = (rows: number) => Math.round(rows / Math.max((Date.now() - started) / 1000, 0.001));
  if (isTTY) {
    const bar = new SingleBar(
      { format: 'import [{bar}] {percentage}% | {rows} rows | {rate} rows/s | ETA {eta_formatted}', hideCursor: true, etaBuffer: 50, fps: 5 },
      Presets.shades_classic,
    );
    bar.start(totalBytes, 0, { rows: 0, rate: 0 });
    return {
      update: (rows, bytes) => bar.update(Math.min(bytes, totalBytes), { rows: rows.toLocaleString('en-GB'), rate: rate(rows).toLocaleString('en-GB') }),
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  return {
    update(rows, bytes) {
      const now = Date.now();
      if (now - last < LOG_EVERY_MS) return;
      last = now;
      const fraction = totalBytes ? Math.min(bytes / totalBytes, 1) : 0;
      const elapsed = (now - started) / 1000;
      log.info(
        { rows, rowsPerSecond: rate(rows), percent: Math.round(fraction * 1000) / 10, etaSeconds: fraction > 0 ? Math.round((elapsed / fraction) * (1 - fraction)) : null },
        'import.progress',
      );
    },
    stop: () => undefined,
  };
}
