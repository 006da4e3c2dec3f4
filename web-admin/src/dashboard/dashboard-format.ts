import { formatDecimal, formatInteger } from '../shared/format';

/**
 * Answers a day, week or month needs for its NPS to be drawn on the trend: with fewer, one answer moves it by 20 points
 * or more (a partial last week of 2 answers read −100 beside weeks of dozens).
 */
export const MIN_NPS_ANSWERS = 5;

export interface NpsBucket {
  start: string;
  nps: { responses: number; score: number | null };
}

const answers = (n: number) => `${formatInteger(n)} ${n === 1 ? 'answer' : 'answers'}`;

/** Whether a bucket has answers, but too few to plot its NPS. */
export const hasTooFewAnswers = (b: NpsBucket) => b.nps.responses > 0 && b.nps.responses < MIN_NPS_ANSWERS;

/** The trend line's values: a bucket's NPS, or null (not drawn) when it has too few answers or none. */
export function npsLine(series: readonly NpsBucket[]): (number | null)[] {
  return series.map((b) => (b.nps.responses >= MIN_NPS_ANSWERS ? b.nps.score : null));
}

/** One point's tooltip: its NPS and how many answers it is from, or why it is not drawn. */
export function npsTooltip(label: string, b: NpsBucket): string {
  if (b.nps.responses === 0) return `${label}: no answers`;
  if (b.nps.responses < MIN_NPS_ANSWERS) return `${label}: ${answers(b.nps.responses)}, too few for an NPS (fewer than ${MIN_NPS_ANSWERS}: not drawn)`;
  return `${label}: NPS ${formatDecimal(b.nps.score)} from ${answers(b.nps.responses)}`;
}

/** The note under the trend naming the buckets left off it; null when none is. */
export function npsTooFewNote(unit: 'DAY' | 'WEEK' | 'MONTH', buckets: readonly { label: string; bucket: NpsBucket }[]): string | null {
  const few = buckets.filter((x) => hasTooFewAnswers(x.bucket));
  if (few.length === 0) return null;
  const units = { DAY: 'Days', WEEK: 'Weeks', MONTH: 'Months' }[unit];
  return `${units} with fewer than ${MIN_NPS_ANSWERS} answers are not drawn on the NPS line, so few answers swing it: ${few
    .map((x) => `${x.label} (${answers(x.bucket.nps.responses)})`)
    .join(', ')}`;
}

/**
 * A churn training job that will give members scores: queued, running, or a failed attempt waiting out its backoff
 * before the next. A DELAYED job never attempted is the nightly retrain's next firing, not a training under way.
 */
export function isChurnTraining(job: { state: string; attemptsMade: number }): boolean {
  return job.state === 'WAITING' || job.state === 'ACTIVE' || (job.state === 'DELAYED' && job.attemptsMade > 0);
}
