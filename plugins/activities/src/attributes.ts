import { AppError } from '@loyalty/api/extension-api';
import { ActivityErrors, MAX_ATTRIBUTES_BYTES, MAX_ATTRIBUTES_DEPTH } from './activity-definitions';

/** Levels of objects and arrays: `{}` is 1, `{ a: [1] }` is 2; stops counting past `limit`. */
function depthOf(value: unknown, limit: number): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  let deepest = 0;
  for (const child of children) {
    deepest = Math.max(deepest, depthOf(child, limit - 1));
    if (deepest >= limit) break;
  }
  return 1 + deepest;
}

/** The attributes as stored (`{}` when none), or ACTIVITY_ATTRIBUTES_TOO_LARGE. */
export function checkedAttributes(attributes: Record<string, unknown> | null | undefined): Record<string, unknown> {
  if (attributes == null) return {};
  const bytes = Buffer.byteLength(JSON.stringify(attributes), 'utf8');
  const depth = depthOf(attributes, MAX_ATTRIBUTES_DEPTH + 1);
  if (bytes > MAX_ATTRIBUTES_BYTES || depth > MAX_ATTRIBUTES_DEPTH) {
    throw new AppError(
      ActivityErrors.ATTRIBUTES_TOO_LARGE.code,
      `Activity attributes may be at most ${MAX_ATTRIBUTES_BYTES} bytes of JSON, ${MAX_ATTRIBUTES_DEPTH} levels deep`,
      { limitBytes: MAX_ATTRIBUTES_BYTES, maxDepth: MAX_ATTRIBUTES_DEPTH, ...(bytes > MAX_ATTRIBUTES_BYTES ? { bytes } : { depth }) },
    );
  }
  return attributes;
}
