import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { clearToken, currentToken, onUnauthorized, setToken } from '../api/client.ts';
import { authApi } from '../api/endpoints.ts';
import type { Me, Role } from '../api/types.ts';

export type SessionState = { status: 'checking' } | { status: 'signed-out'; reason?: string } | { status: 'signed-in'; me: Me };

interface SessionValue {
  state: SessionState;
  signIn: (email: string, password: string) => Promise<void>;
  signOut: (reason?: string) => void;
}

const SessionContext = createContext<SessionValue | undefined>(undefined);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>(() => (currentToken() ? { status: 'checking' } : { status: 'signed-out' }));

  const signOut = useCallback((reason?: string) => {
    clearToken();
    setState(reason ? { status: 'signed-out', reason } : { status: 'signed-out' });
  }, []);

  // A token kept from before a reload: ask who it belongs to (and whether the account is still enabled).
  useEffect(() => {
    if (state.status !== 'checking') return;
    let cancelled = false;
    authApi.me().then(
      ({ data }) => !cancelled && setState({ status: 'signed-in', me: data }),
      () => !cancelled && signOut('Your session has ended. Sign in again.'),
    );
    return () => {
      cancelled = true;
    };
  }, [state.status, signOut]);

  // Any 401 on a signed-in call ends the session and sends the person back to sign in.
  useEffect(() => onUnauthorized(() => setState({ status: 'signed-out', reason: 'Your session has ended. Sign in again.' })), []);

  const signIn = useCallback(async (email: string, password: string) => {
    const { data } = await authApi.login(email, password);
    setToken(data.accessToken, data.expiresIn);
    try {
      const me = await authApi.me();
      setState({ status: 'signed-in', me: me.data });
    } catch (error) {
      clearToken();
      throw error;
    }
  }, []);

  const value = useMemo(() => ({ state, signIn, signOut }), [state, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

const rank: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };

/** What the signed-in person may do; the services enforce the same, this only keeps buttons that can only fail away. */
export interface Permissions {
  me: Me;
  /** Change flags, rules, segments and SDK keys. */
  canEdit: boolean;
  /** Manage accounts. */
  canAdmin: boolean;
  /** Why an edit control is disabled, in words. */
  editReason: string;
}

export function usePermissions(): Permissions {
  const { state } = useSession();
  if (state.status !== 'signed-in') throw new Error('usePermissions needs a signed-in session');
  const { me } = state;
  return {
    me,
    canEdit: rank[me.role] >= rank.editor,
    canAdmin: rank[me.role] >= rank.admin,
    editReason: `Your role is ${me.role}: changes need the editor or admin role.`,
  };
}
