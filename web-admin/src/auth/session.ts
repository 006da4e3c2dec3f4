const storageKey = 'loyalty.admin.session';

export interface StoredSession {
  token: string;
  /** DateTimeISO from the login response. */
  expiresAt: string;
}

/** The stored session, or null when there is none, it is unreadable, or it has expired. */
export function readSession(now = Date.now()): StoredSession | null {
  let stored: unknown;
  try {
    stored = JSON.parse(sessionStorage.getItem(storageKey) ?? 'null');
  } catch {
    return null;
  }
  if (!isStoredSession(stored) || msUntilExpiry(stored, now) <= 0) return null;
  return stored;
}

export function writeSession(session: StoredSession): void {
  sessionStorage.setItem(storageKey, JSON.stringify({ token: session.token, expiresAt: session.expiresAt }));
}

export function clearSession(): void {
  sessionStorage.removeItem(storageKey);
}

export function readToken(): string | null {
  return readSession()?.token ?? null;
}

/** Milliseconds left; an unparseable expiry counts as already expired. */
export function msUntilExpiry(session: StoredSession, now = Date.now()): number {
  const expiresAt = Date.parse(session.expiresAt);
  return Number.isNaN(expiresAt) ? 0 : expiresAt - now;
}

function isStoredSession(value: unknown): value is StoredSession {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as StoredSession).token === 'string' &&
    typeof (value as StoredSession).expiresAt === 'string'
  );
}

/**
 * Who and which session a token belongs to (`sub` and `jti`): the same across the renewals of one session, so the API
 * client and its cache survive a renewal but never pass from one admin or session to another.
 */
export function sessionIdentity(token: string): string {
  try {
    const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))) as { sub?: unknown; jti?: unknown };
    if (typeof payload.sub === 'string' && typeof payload.jti === 'string') return `${payload.sub}:${payload.jti}`;
  } catch {
    // not a token we can read: fall back to the token itself
  }
  return token;
}
