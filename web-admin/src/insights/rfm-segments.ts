import type { RfmSegment } from '../gql/graphql';

/** Segment names in words ("Can't lose them" has an apostrophe `humanize` cannot know). */
export const rfmSegmentLabels: Record<RfmSegment, string> = {
  CHAMPIONS: 'Champions',
  LOYAL_CUSTOMERS: 'Loyal customers',
  POTENTIAL_LOYALISTS: 'Potential loyalists',
  NEW_CUSTOMERS: 'New customers',
  PROMISING: 'Promising',
  NEED_ATTENTION: 'Need attention',
  ABOUT_TO_SLEEP: 'About to sleep',
  AT_RISK: 'At risk',
  CANT_LOSE_THEM: "Can't lose them",
  HIBERNATING: 'Hibernating',
  LOST: 'Lost',
};

/** What each segment's cells of the grid below say about its members. */
export const rfmSegmentDescriptions: Record<RfmSegment, string> = {
  CHAMPIONS: 'Bought most recently, and buy the most often or spend the most',
  LOYAL_CUSTOMERS: 'Buy often or spend a lot, and bought fairly recently',
  POTENTIAL_LOYALISTS: 'Bought recently, with middling frequency and spend',
  NEW_CUSTOMERS: 'Bought most recently, but seldom and for little so far',
  PROMISING: 'Bought recently, but seldom and for little',
  NEED_ATTENTION: 'Middling recency, frequency and spend',
  ABOUT_TO_SLEEP: 'Middling recency, and seldom buy or spend little',
  AT_RISK: 'Used to buy often or spend well, but not for a while',
  CANT_LOSE_THEM: 'Bought the most often or spent the most, but not for a while',
  HIBERNATING: 'Bought long ago, seldom and for little',
  LOST: 'Among the longest since an order, with the fewest orders and the least spend',
};

/** Best first, the order the table lists them in (the API's is alphabetical). */
export const rfmSegmentOrder = Object.keys(rfmSegmentLabels) as RfmSegment[];

// One number of decimals per figure, so that a column reads alike ("1.00" above "11.72", "3.0%" beside "3.3%").
export const shareDigits = 1;
export const ordersPerMemberDigits = 2;

/** A segment's name, own keys only: `?segment=toString` names none (`in` would find it on Object.prototype). */
export function isRfmSegment(value: string | null): value is RfmSegment {
  return value != null && Object.hasOwn(rfmSegmentLabels, value);
}

const dayMs = 86_400_000;

/** Today as a UTC calendar day, YYYY-MM-DD (the dashboard's ranges are UTC days too). */
export function todayUtc(now = Date.now()): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** The earliest day the page shows figures as of (the Unix epoch); an earlier one, year 0000 say, falls back to today. */
export const earliestAsOfDay = '1970-01-01';

/** A `?asOf=` day if it is a real calendar day from `earliestAsOfDay` to `today`; otherwise null (the page then shows today). */
export function parseAsOfDay(value: string | null, today: string): string | null {
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  const time = Date.parse(`${value}T00:00:00Z`);
  // Date.parse rolls 31 February over into March: only a day that reads back the same is real.
  if (Number.isNaN(time) || new Date(time).toISOString().slice(0, 10) !== value) return null;
  // YYYY-MM-DD strings compare as the days they name.
  return value >= earliestAsOfDay && value <= today ? value : null;
}

/** The moment RFM is computed at for a day: the end of it (the next UTC midnight), so all that day's orders count. */
export function endOfDayUtc(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + dayMs).toISOString();
}

/** The day an end-of-day moment closes (the API echoes `asOf`). */
export function dayEndingAt(asOf: string): string {
  return new Date(Date.parse(asOf) - 1).toISOString();
}
