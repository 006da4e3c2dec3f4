import type { Estimate } from '@loyalty/api/extension-api';
import type { Challenge } from './challenge.entity';
import { LATE_ARRIVAL_MS } from './goals';

/** One side of the comparison: its audience members now, its progress rows, its spend per member (minor units). */
export interface GroupFigures {
  members: number;
  rows: number;
  spendPerMember: number | null;
}

/**
 * The challenge's results in plain language, in the words campaigns use ("significant", "95% CI", "the interval
 * includes zero"): whether participants' spend per member differs from the holdout's, or why that cannot be told.
 */
export function verdictOf(r: { challenge: Challenge; now: Date; participants: GroupFigures; holdout: GroupFigures; uplift: Estimate | null }): string {
  const { challenge, participants, holdout, uplift } = r;
  const money = (minor: number) => formatMinor(minor, challenge.currency);
  const signed = (minor: number) => `${minor >= 0 ? '+' : ''}${money(minor)}`;
  if (challenge.holdoutPercent === 0) return 'No uplift can be measured: the challenge has no holdout (hold out part of the audience in the next one).';
  if (r.now < challenge.startsAt) return 'Not started yet: results cover orders from the start of the challenge.';
  if (holdout.members < 2) {
    return `No uplift can be measured: the holdout has ${members(holdout.members)} in the audience, and an interval needs at least 2 (hold out more, or choose a larger audience, next time).`;
  }
  if (participants.members < 2) return `No uplift can be measured: the audience has ${members(participants.members)} not held out, and an interval needs at least 2.`;
  if (participants.rows > participants.members || holdout.rows > holdout.members) {
    return 'No uplift can be measured: more members have progress than the audience holds now (its segment lost members who had joined), so the spends are not those of the groups compared.';
  }
  // Per audience member (intention to treat: everyone not held out, joined or not), which is what the holdout compares.
  const spendText = `spend per audience member ${money(participants.spendPerMember ?? 0)} not held out vs ${money(holdout.spendPerMember ?? 0)} held out`;
  if (!uplift) return `No uplift can be measured yet: ${spendText}, and within each group every member spent the same, so there is no spread to estimate an interval from.`;
  const text = `${spendText}, ${signed(uplift.difference)} (95% CI ${signed(uplift.low)} to ${signed(uplift.high)})`;
  if (uplift.significant) {
    return `${uplift.difference > 0 ? 'The challenge made a significant difference' : 'Participants spent significantly less than the holdout'}: ${text}.`;
  }
  // Paused, or past the end and the late orders' grace: waiting cannot change the figures.
  const isSettled = !challenge.isActive || r.now.getTime() >= challenge.endsAt.getTime() + LATE_ARRIVAL_MS;
  if (isSettled) {
    return `No significant difference: ${text}. The interval includes zero, so the challenge cannot be said to have added spend; telling a difference this size apart needs more members, or a larger holdout, next time.`;
  }
  return `No significant difference yet: ${text}. The interval includes zero, so the challenge cannot yet be said to have added spend; orders still to come in its window may change that.`;
}

const members = (n: number) => `${n} member${n === 1 ? '' : 's'}`;

/** Minor units as money, to the nearest minor unit, as the admin app's tiles write it: 29683 GBP → "£296.83", 500 JPY → "¥500". */
function formatMinor(minor: number, currency: string): string {
  const format = new Intl.NumberFormat('en-GB', { style: 'currency', currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(Math.round(minor) / 10 ** digits);
}
