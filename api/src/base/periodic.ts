/**
 * Runs `work` every `everyMs` in this process (and once at once when `immediately`), never two runs at a time: a tick
 * that finds the last run still going is skipped. The timer does not keep the process alive. `work` handles its own
 * errors; `close` stops the timer and waits for a run in flight.
 */
export function runPeriodically(everyMs: number, work: () => Promise<void>, options: { immediately?: boolean } = {}): { close(): Promise<void> } {
  let running: Promise<void> | null = null;
  const tick = () => {
    if (running) return;
    running = work().finally(() => {
      running = null;
    });
  };
  if (options.immediately) tick();
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return {
    async close() {
      clearInterval(timer);
      await running;
    },
  };
}
