import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
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
/**
 * How long before its token expires an active session is renewed, or an idle one warned: two minutes, or a quarter of
 * the token's life when that is shorter (so a renewed token is not due again at once).
 */
const renewBefore = (session: StoredSession, issuedAt: number) => Math.min(2 * 60_000, Math.max(5_000, (Date.parse(session.expiresAt) - issuedAt) / 4));
const retryMs = 20_000;
const RENEW = 'mutation RenewSession { renewSession { token expiresAt } }';

type Renewal = { session: StoredSession } | { unauthenticated: true } | { failed: true };

/** Asks the API for a new token of this session (renewSession): the same session, valid a token's lifetime longer. */
async function renew(token: string): Promise<Renewal> {
  try {
    const res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: RENEW, operationName: 'RenewSession' }),
    });
    const body = (await res.json()) as { data?: { renewSession?: StoredSession | null }; errors?: { extensions?: { code?: string } }[] };
    if (body.data?.renewSession) return { session: body.data.renewSession };
    return body.errors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED') ? { unauthenticated: true } : { failed: true };
  } catch {
    return { failed: true };
  }
}

/**
 * Keeps the admin signed in while they work: a session whose admin clicked or typed since it was last issued is renewed
 * shortly before its token expires; an idle one shows a warning with "Stay signed in" and ends at expiry. The API
 * ends a session at ADMIN_SESSION_MAX_SECONDS from its login whatever happens here.
 */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<StoredSession | null>(() => readSession());
  const [endReason, setEndReason] = useState<SessionEndReason | null>(null);
  const [endedExpiresAt, setEndedExpiresAt] = useState<string | null>(null);
  const [warning, setWarning] = useState(false);
  const lastActivity = useRef(Date.now());
  const issuedAt = useRef(Date.now());

  const signIn = useCallback((next: StoredSession) => {
    writeSession(next);
    setEndReason(null);
    setWarning(false);
    issuedAt.current = Date.now();
    setSession({ token: next.token, expiresAt: next.expiresAt });
  }, []);

  const signOut = useCallback((reason: SessionEndReason = 'signed-out') => {
    setEndedExpiresAt(readSession()?.expiresAt ?? null);
    clearSession();
    setEndReason(reason);
    setWarning(false);
    setSession(null);
  }, []);

  const stay = useCallback(async () => {
    const current = readSession();
    if (!current) return signOut('expired');
    const renewal = await renew(current.token);
    if ('session' in renewal) signIn(renewal.session);
    else if ('unauthenticated' in renewal) signOut('expired');
  }, [signIn, signOut]);

  useEffect(() => {
    const seen = () => void (lastActivity.current = Date.now());
    // Clicks, keys, and edits that come without a key (paste, autofill, dictation).
    const events = ['pointerdown', 'keydown', 'input'] as const;
    for (const type of events) window.addEventListener(type, seen, { capture: true, passive: true });
    return () => {
      for (const type of events) window.removeEventListener(type, seen, { capture: true });
    };
  }, []);

  useEffect(() => {
    if (!session) return;
    let timer: ReturnType<typeof setTimeout>;
    const before = renewBefore(session, issuedAt.current);
    const check = async () => {
      const left = msUntilExpiry(session);
      if (left <= 0) return signOut('expired');
      if (left > before) return void (timer = setTimeout(check, Math.min(left - before, maxTimerDelay)));
      if (lastActivity.current > issuedAt.current) {
        const renewal = await renew(session.token);
        if ('session' in renewal) return signIn(renewal.session);
        if ('unauthenticated' in renewal) return signOut('expired');
      } else setWarning(true);
      // Idle, or the API could not be reached: ask again soon, and end the session at its expiry.
      timer = setTimeout(check, Math.min(retryMs, left));
    };
    timer = setTimeout(check, Math.min(Math.max(0, msUntilExpiry(session) - before), maxTimerDelay));
    return () => clearTimeout(timer);
  }, [session, signIn, signOut]);

  const value = useMemo(() => ({ session, endReason, endedExpiresAt, signIn, signOut }), [session, endReason, endedExpiresAt, signIn, signOut]);
  return (
    <SessionContext.Provider value={value}>
      {children}
      {session && warning ? (
        <div className="session-warning" role="alertdialog" aria-live="assertive" data-testid="session-warning">
          <p>
            Your session ends at {new Date(session.expiresAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })} unless you stay signed
            in.
          </p>
          <button type="button" onClick={() => void stay()} data-testid="session-stay">
            Stay signed in
          </button>
        </div>
      ) : null}
    </SessionContext.Provider>
  );
}

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession must be used inside <SessionProvider>');
  return value;
}
