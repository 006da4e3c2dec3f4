// C0 controls but tab, newline and carriage return, which free text (a reason, an address) may hold.
const CONTROL_CHARACTER = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export type TextProblem = 'CONTROL_CHARACTER' | 'LONE_SURROGATE';

/**
 * Why PostgreSQL (text cannot hold NUL, jsonb no unpaired surrogate) and most consumers could not take this string as
 * it is; null when they can. The GraphQL edge checks every argument with it, the importer every field.
 */
export function textProblem(text: string): TextProblem | null {
  if (CONTROL_CHARACTER.test(text)) return 'CONTROL_CHARACTER';
  if (LONE_SURROGATE.test(text)) return 'LONE_SURROGATE';
  return null;
}

export const textProblemMessages: Record<TextProblem, string> = {
  CONTROL_CHARACTER: 'must not contain control characters other than tab, newline and carriage return',
  LONE_SURROGATE: 'must not contain unpaired UTF-16 surrogates',
};
