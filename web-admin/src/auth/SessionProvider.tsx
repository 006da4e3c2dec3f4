import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { clearSession, msUntilExpiry, readSession, writeSession, type StoredSession } from './session';

/**
 * Why the last session ended, so the login page can say "your session expired". `not-revoked`: signed out here, but
 * the server did not confirm that it ended the session, so its token works until it expires.
 */
export type SessionEndReason = 'signed-out' | 'expired' | 'not-revoked';

interface SessionContextValue {
  session: StoredSession | null;
  endReason: SessionEndReason | null;
  /** When the session that ended would have expired (DateTimeISO); what `not-revoked` tells the admin. */
  endedExpiresAt: string | null;
  signIn(session: StoredSession): void;
  signOut(reason?: SessionEndReason): void;
}

const SessionContext = createContext<SessionContextValue | null>(null);

// setTimeout fires at once for delays above 2^31-1 ms (~24.8 days).
const maxTimerDelay = 2 ** 31 - 1;

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<StoredSession | null>(() => readSession());
  const [endReason, setEndReason] = useState<SessionEndReason | null>(null);
  const [endedExpiresAt, setEndedExpiresAt] = useState<string | null>(null);

  const signIn = useCallback((next: StoredSession) => {
    writeSession(next);
    setEndReason(null);
    setSession({ token: next.token, expiresAt: next.expiresAt });
  }, []);

  const signOut = useCallback((reason: SessionEndReason = 'signed-out') => {
    setEndedExpiresAt(readSession()?.expiresAt ?? null);
    clearSession();
    setEndReason(reason);
    setSession(null);
  }, []);

  useEffect(() => {
    if (!session) return;
    const timer = setTimeout(() => signOut('expired'), Math.min(msUntilExpiry(session), maxTimerDelay));
    return () => clearTimeout(timer);
  }, [session, signOut]);

  const value = useMemo(() => ({ session, endReason, endedExpiresAt, signIn, signOut }), [session, endReason, endedExpiresAt, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession must be used inside <SessionProvider>');
  return value;
}
