import { dictionary } from '@zxcvbn-ts/language-common';

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 200;

/** zxcvbn-ts's list of the ~49,000 most used passwords, lower-cased for lookup. */
const commonPasswords: ReadonlySet<string> = new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()));

/** What is wrong with a new admin password, as predicates for `extensions.fields`; empty when it is acceptable. */
export function passwordProblems(password: string, email: string): string[] {
  const problems: string[] = [];
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    problems.push(`must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`);
  }
  const lower = password.toLowerCase();
  const normalisedEmail = email.trim().toLowerCase();
  const localPart = normalisedEmail.split('@')[0] ?? '';
  if (lower.includes(normalisedEmail)) problems.push('must not contain the email address');
  else if (localPart.length >= 4 && lower.includes(localPart)) problems.push(`must not contain "${localPart}", the name in the email address`);
  // "Password2024!" is as weak as "password": drop trailing digits and symbols before the lookup.
  const stem = lower.replace(/[\d\W_]+$/u, '');
  if (commonPasswords.has(lower) || (stem.length >= 4 && commonPasswords.has(stem)) || /^(.)\1+$/u.test(password)) {
    problems.push('is a commonly used password');
  }
  return problems;
}
