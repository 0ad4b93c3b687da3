import type { UserRole } from '../../shared/http/authenticate.ts';
import { invitationRefusal, type ApiKey, type AuthStore, type Invitation, type ProjectMember, type User } from './auth-store.ts';

/** The same contract as the PostgreSQL store, in memory, for unit tests. */
export function createMemoryAuthStore(): AuthStore {
  const users = new Map<string, User>();
  const apiKeys = new Map<string, ApiKey>();
  const invitations = new Map<string, Invitation>();
  /** By project, then user id. */
  const members = new Map<string, Map<string, ProjectMember>>();
  const copy = <T extends object>(value: T): T => ({ ...value });
  return {
    async insertUser(user) {
      if ([...users.values()].some((u) => u.email === user.email)) return false;
      users.set(user.id, copy(user));
      return true;
    },
    async findUserByEmail(email) {
      const user = [...users.values()].find((u) => u.email === email);
      return user && copy(user);
    },
    async findUserById(id) {
      const user = users.get(id);
      return user && copy(user);
    },
    async listUsers({ limit, after }) {
      const sorted = [...users.values()].sort((a, b) => a.email.localeCompare(b.email)).filter((u) => !after || u.email > after);
      const items = sorted.slice(0, limit).map(copy);
      return { items, nextCursor: sorted.length > limit ? (items.at(-1)?.email ?? null) : null };
    },
    async updateUser(id, change) {
      const current = users.get(id);
      if (!current) return 'not-found';
      const next = { ...current, role: change.role ?? current.role, disabled: change.disabled ?? current.disabled, updatedAt: new Date() };
      const admins = [...users.values()].filter((u) => u.role === 'admin' && !u.disabled);
      if (admins.length === 1 && admins[0]?.id === id && !(next.role === 'admin' && !next.disabled)) return 'last-admin';
      users.set(id, next);
      return copy(next);
    },
    async countUsers() {
      return users.size;
    },
    async insertApiKey(key) {
      apiKeys.set(key.id, copy(key));
    },
    async listApiKeys({ project, environment, includeRevoked }) {
      return [...apiKeys.values()]
        .filter(
          (k) => (!project || k.project === project) && (!environment || k.environment === environment) && (includeRevoked || !k.revokedAt),
        )
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || a.id.localeCompare(b.id))
        .map(copy);
    },
    async findApiKeyById(id) {
      const key = apiKeys.get(id);
      return key && copy(key);
    },
    async revokeApiKey(id, at) {
      const key = apiKeys.get(id);
      if (!key) return false;
      key.revokedAt ??= at;
      return true;
    },
    async listProjectMembers(project) {
      return [...(members.get(project)?.values() ?? [])]
        .flatMap((member) => {
          const user = users.get(member.userId);
          return user ? [{ ...member, email: user.email, name: user.name }] : [];
        })
        .sort((a, b) => a.email.localeCompare(b.email));
    },
    async setProjectMember(project, userId, role, at) {
      const user = users.get(userId);
      if (!user) return 'user-not-found';
      const inProject = members.get(project) ?? new Map<string, ProjectMember>();
      members.set(project, inProject);
      const member = { project, userId, role, createdAt: inProject.get(userId)?.createdAt ?? at, updatedAt: at };
      inProject.set(userId, member);
      return { ...member, email: user.email, name: user.name };
    },
    async removeProjectMember(project, userId) {
      return members.get(project)?.delete(userId) ?? false;
    },
    async projectRolesOf(userIds) {
      const roles = new Map<string, Record<string, UserRole>>();
      for (const inProject of members.values())
        for (const member of inProject.values())
          if (userIds.includes(member.userId)) roles.set(member.userId, { ...roles.get(member.userId), [member.project]: member.role });
      return roles;
    },
    async insertInvitation(invitation) {
      for (const other of invitations.values())
        if (other.email === invitation.email && !other.acceptedAt && !other.revokedAt) other.revokedAt = invitation.createdAt;
      invitations.set(invitation.id, copy(invitation));
    },
    async findInvitationByTokenHash(tokenHash) {
      const invitation = [...invitations.values()].find((i) => i.tokenHash === tokenHash);
      return invitation && copy(invitation);
    },
    async listPendingInvitations(at) {
      return [...invitations.values()]
        .filter((i) => invitationRefusal(i, at) === undefined)
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || a.id.localeCompare(b.id))
        .map(copy);
    },
    async revokeInvitation(id, at) {
      const invitation = invitations.get(id);
      if (!invitation) return 'not-found';
      if (invitation.acceptedAt) return 'accepted';
      invitation.revokedAt ??= at;
      return copy(invitation);
    },
    // No await between the checks and the writes: one step, as the PostgreSQL store's transaction is.
    async acceptInvitation(tokenHash, account, at) {
      const invitation = [...invitations.values()].find((i) => i.tokenHash === tokenHash);
      const refusal = invitationRefusal(invitation, at);
      if (refusal || !invitation) return refusal ?? 'not-found';
      if ([...users.values()].some((u) => u.email === invitation.email)) return 'email-taken';
      const user: User = {
        id: account.id,
        email: invitation.email,
        name: account.name,
        role: invitation.role,
        disabled: false,
        passwordHash: account.passwordHash,
        createdAt: at,
        updatedAt: at,
      };
      users.set(user.id, user);
      Object.assign(invitation, { acceptedAt: at, acceptedUserId: user.id });
      return { user: copy(user), invitation: copy(invitation) };
    },
  };
}
