/** The parts of a W3C Trace Context `traceparent` header (https://www.w3.org/TR/trace-context/#traceparent-header). */
export interface TraceParent {
  version: string;
  /** 32 lower-case hex digits, not all zero. */
  traceId: string;
  /** The caller's span: 16 lower-case hex digits, not all zero. */
  parentId: string;
  flags: string;
}

const VERSION_00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
/** A later version: the version 00 fields first, then either the end or a dash and whatever that version adds. */
const LATER_VERSION = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/s;
const ALL_ZERO = /^0+$/;

/**
 * The header parsed as the W3C recommendation says, or null when a receiver must ignore it: upper-case hex, a wrong
 * length, an all-zero trace or parent id, version ff, version 00 with anything after its flags, or several headers
 * joined into one (Node joins repeated headers with ", ").
 */
export function parseTraceparent(header: string | string[] | undefined): TraceParent | null {
  if (typeof header !== 'string') return null;
  const match = header.startsWith('00-') ? VERSION_00.exec(header) : LATER_VERSION.exec(header);
  if (!match) return null;
  const [version, traceId, parentId, flags] = header.startsWith('00-') ? ['00', ...match.slice(1)] : match.slice(1);
  if (version === 'ff' || ALL_ZERO.test(traceId) || ALL_ZERO.test(parentId)) return null;
  return { version, traceId, parentId, flags };
}
