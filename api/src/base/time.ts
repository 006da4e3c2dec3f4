/** Durations in milliseconds, said once for the API (the recommender has its own: recommender/src/time.ts). */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/**
 * What time it is for the services that stamp a use case's moment (when points are earned, an order claimed, a return
 * recorded). Given to them at composition: the real time by default; a test can run the API "at" a moment of its choice.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Whether `name` is an IANA time zone this runtime knows (Europe/London, UTC). */
export function isTimeZone(name: string): boolean {
  if (name.length === 0 || name.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();
const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** The calendar day `at` falls on in `timeZone`, as YYYY-MM-DD. */
export function localDay(at: Date, timeZone: string): string {
  let format = dayFormats.get(timeZone);
  if (!format) dayFormats.set(timeZone, (format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })));
  return format.format(at);
}

/** That local day as a number of days since 1970-01-01: consecutive days differ by one, whatever the offsets. */
export function localDayNumber(at: Date, timeZone: string): number {
  const [y, m, d] = localDay(at, timeZone).split('-').map(Number);
  return Math.round(Date.UTC(y, m - 1, d) / DAY_MS);
}

/** The week (Monday to Sunday) of that local day, numbered so that consecutive weeks differ by one. */
export function localWeekNumber(at: Date, timeZone: string): number {
  // 1970-01-01 was a Thursday: shifting by 3 days makes each number start on a Monday.
  return Math.floor((localDayNumber(at, timeZone) + 3) / 7);
}

/** `timeZone`'s offset from UTC at `at`, in minutes (60 for Europe/Paris in winter). */
export function offsetMinutes(at: Date, timeZone: string): number {
  let format = offsetFormats.get(timeZone);
  if (!format) offsetFormats.set(timeZone, (format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })));
  const name = format.formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

/** The instant a local day (a localDayNumber) begins in `timeZone`: its midnight, or the first instant after a gap. */
export function startOfLocalDayNumber(day: number, timeZone: string): Date {
  const midnightUtc = day * DAY_MS;
  // The offset at the guess may differ from the offset at the answer across a change of offset: settle it twice.
  let at = midnightUtc - offsetMinutes(new Date(midnightUtc), timeZone) * MINUTE_MS;
  at = midnightUtc - offsetMinutes(new Date(at), timeZone) * MINUTE_MS;
  return new Date(at);
}
