import { useEffect, useState } from 'react';

// setTimeout fires at once for delays above 2^31-1 ms (~24.8 days).
const maxTimerDelay = 2 ** 31 - 1;

/**
 * The current time, re-read when the next of `moments` (ISO instants, e.g. expiries) passes, so a status such as
 * "works until 10:04:05" turns into "Expired" on screen without a reload.
 */
export function useNow(moments: readonly (string | null | undefined)[]): number {
  const [now, setNow] = useState(() => Date.now());
  const next = Math.min(...moments.map((m) => (m ? Date.parse(m) : NaN)).filter((t) => t > now));
  useEffect(() => {
    if (!Number.isFinite(next)) return;
    const timer = setTimeout(() => setNow(Date.now()), Math.min(next - Date.now() + 50, maxTimerDelay));
    return () => clearTimeout(timer);
  }, [next]);
  return now;
}
