import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { clearToken, currentToken, onUnauthorized, setToken } from '../api/client.ts';
import { authApi } from '../api/endpoints.ts';
import type { Me } from '../api/types.ts';
import { defaultProject, permissionsIn, roleInProject, type ProjectPermissions } from '../lib/projects.ts';
import { ProjectContext, ResourceProjectContext } from './project-context.ts';

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

/**
 * What the signed-in person may do, by their role in the current project (or, on a page of one resource, in that
 * resource's project); the services enforce the same, this only keeps buttons that can only fail away.
 */
export interface Permissions extends ProjectPermissions {
  me: Me;
  /** An organisation admin (account role admin): admin of every project; manages accounts, environments and projects. */
  isOrgAdmin: boolean;
}

export function usePermissions(): Permissions {
  const { state } = useSession();
  const projects = useContext(ProjectContext);
  const resourceProject = useContext(ResourceProjectContext);
  if (state.status !== 'signed-in') throw new Error('usePermissions needs a signed-in session');
  const { me } = state;
  const project = resourceProject ?? projects?.current ?? defaultProject;
  return {
    me,
    isOrgAdmin: me.role === 'admin',
    ...permissionsIn(project, roleInProject(me.role, project, projects?.projects)),
  };
}
