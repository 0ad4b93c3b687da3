import type { ColumnType, Kysely, Selectable } from 'kysely';
import type { SdkKeyKind } from '../../shared/contracts/access-model.ts';
import { isUniqueViolation } from '../../shared/db/database.ts';
import { appendChange, type OutboxTable } from '../../shared/propagation/outbox.ts';
import type { UserRole } from '../../shared/http/authenticate.ts';
import { invitationRefusal, type ApiKey, type AuthStore, type Invitation, type ProjectMemberOf, type User } from './auth-store.ts';

interface UsersTable {
  id: string;
  email: string;
  name: string | null;
  role: UserRole;
  disabled: boolean;
  password_hash: string;
  created_at: Date;
  updated_at: Date;
}

interface ApiKeysTable {
  id: string;
  name: string;
  /** Defaults to 'default' in the database (keys made before projects). */
  project: ColumnType<string, string | undefined, string>;
  environment: string;
  kind: SdkKeyKind;
  prefix: string;
  key_hash: string;
  created_by: string;
  created_at: Date;
  revoked_at: Date | null;
}

interface InvitationsTable {
  id: string;
  email: string;
  role: UserRole;
  token_hash: string;
  invited_by: string;
  created_at: Date;
  expires_at: Date;
  accepted_at: Date | null;
  accepted_user_id: string | null;
  revoked_at: Date | null;
}

interface ProjectMembersTable {
  project: string;
  user_id: string;
  role: UserRole;
  created_at: Date;
  updated_at: Date;
}

export interface AuthDatabase {
  users: UsersTable;
  api_keys: ApiKeysTable;
  project_members: ProjectMembersTable;
  invitations: InvitationsTable;
  outbox: OutboxTable;
}

const toUser = (row: Selectable<UsersTable>): User => ({
  id: row.id,
  email: row.email,
  name: row.name,
  role: row.role,
  disabled: row.disabled,
  passwordHash: row.password_hash,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const toApiKey = (row: Selectable<ApiKeysTable>): ApiKey => ({
  id: row.id,
  name: row.name,
  project: row.project,
  environment: row.environment,
  kind: row.kind,
  prefix: row.prefix,
  keyHash: row.key_hash,
  createdBy: row.created_by,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

const toMember = (row: Selectable<ProjectMembersTable> & Pick<Selectable<UsersTable>, 'email' | 'name'>): ProjectMemberOf => ({
  project: row.project,
  userId: row.user_id,
  role: row.role,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  email: row.email,
  name: row.name,
});

const toInvitation = (row: Selectable<InvitationsTable>): Invitation => ({
  id: row.id,
  email: row.email,
  role: row.role,
  tokenHash: row.token_hash,
  invitedBy: row.invited_by,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  acceptedAt: row.accepted_at,
  acceptedUserId: row.accepted_user_id,
  revokedAt: row.revoked_at,
});

export function createPostgresAuthStore(db: Kysely<AuthDatabase>): AuthStore {
  return {
    async insertUser(user) {
      try {
        await db.transaction().execute(async (tx) => {
          await tx
            .insertInto('users')
            .values({
              id: user.id,
              email: user.email,
              name: user.name,
              role: user.role,
              disabled: user.disabled,
              password_hash: user.passwordHash,
              created_at: user.createdAt,
              updated_at: user.updatedAt,
            })
            .execute();
          await appendChange(tx, { kind: 'user', id: user.id });
        });
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },
    async findUserByEmail(email) {
      const row = await db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
      return row && toUser(row);
    },
    async findUserById(id) {
      const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toUser(row);
    },
    async listUsers({ limit, after }) {
      let query = db
        .selectFrom('users')
        .selectAll()
        .orderBy('email')
        .limit(limit + 1);
      if (after) query = query.where('email', '>', after);
      const rows = await query.execute();
      const items = rows.slice(0, limit).map(toUser);
      return { items, nextCursor: rows.length > limit ? (items.at(-1)?.email ?? null) : null };
    },
    async updateUser(id, change) {
      return db.transaction().execute(async (tx) => {
        // Lock the admins first: two admins demoting each other at once must not both succeed.
        const admins = await tx
          .selectFrom('users')
          .select(['id'])
          .where('role', '=', 'admin')
          .where('disabled', '=', false)
          .forUpdate()
          .execute();
        const current = await tx.selectFrom('users').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
        if (!current) return 'not-found' as const;
        const next = { role: change.role ?? current.role, disabled: change.disabled ?? current.disabled };
        const stillAdmin = next.role === 'admin' && !next.disabled;
        if (admins.some((a) => a.id === id) && !stillAdmin && admins.length === 1) return 'last-admin' as const;
        const row = await tx
          .updateTable('users')
          .set({ role: next.role, disabled: next.disabled, updated_at: new Date() })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await appendChange(tx, { kind: 'user', id });
        return toUser(row);
      });
    },
    async countUsers() {
      const { count } = await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .executeTakeFirstOrThrow();
      return count;
    },
    async insertApiKey(key) {
      await db.transaction().execute(async (tx) => {
        await tx
          .insertInto('api_keys')
          .values({
            id: key.id,
            name: key.name,
            project: key.project,
            environment: key.environment,
            kind: key.kind,
            prefix: key.prefix,
            key_hash: key.keyHash,
            created_by: key.createdBy,
            created_at: key.createdAt,
            revoked_at: key.revokedAt,
          })
          .execute();
        await appendChange(tx, { kind: 'sdk-key', id: key.id });
      });
    },
    async listApiKeys({ project, environment, includeRevoked }) {
      let query = db.selectFrom('api_keys').selectAll().orderBy('created_at', 'desc').orderBy('id');
      if (project) query = query.where('project', '=', project);
      if (environment) query = query.where('environment', '=', environment);
      if (!includeRevoked) query = query.where('revoked_at', 'is', null);
      return (await query.execute()).map(toApiKey);
    },
    async findApiKeyById(id) {
      const row = await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toApiKey(row);
    },
    async revokeApiKey(id, at) {
      return db.transaction().execute(async (tx) => {
        const existing = await tx.selectFrom('api_keys').select(['id', 'revoked_at']).where('id', '=', id).forUpdate().executeTakeFirst();
        if (!existing) return false;
        if (!existing.revoked_at) {
          await tx.updateTable('api_keys').set({ revoked_at: at }).where('id', '=', id).execute();
          await appendChange(tx, { kind: 'sdk-key', id });
        }
        return true;
      });
    },
    async listProjectMembers(project) {
      const rows = await db
        .selectFrom('project_members')
        .innerJoin('users', 'users.id', 'project_members.user_id')
        .selectAll('project_members')
        .select(['users.email', 'users.name'])
        .where('project_members.project', '=', project)
        .orderBy('users.email')
        .execute();
      return rows.map(toMember);
    },
    async setProjectMember(project, userId, role, at) {
      return db.transaction().execute(async (tx) => {
        const user = await tx.selectFrom('users').select(['email', 'name']).where('id', '=', userId).executeTakeFirst();
        if (!user) return 'user-not-found' as const;
        const row = await tx
          .insertInto('project_members')
          .values({ project, user_id: userId, role, created_at: at, updated_at: at })
          .onConflict((oc) => oc.columns(['project', 'user_id']).doUpdateSet({ role, updated_at: at }))
          .returningAll()
          .executeTakeFirstOrThrow();
        // The user's access record carries their memberships: republished with this write, or not at all.
        await appendChange(tx, { kind: 'user', id: userId });
        return toMember({ ...row, ...user });
      });
    },
    async removeProjectMember(project, userId) {
      return db.transaction().execute(async (tx) => {
        const removed = await tx
          .deleteFrom('project_members')
          .where('project', '=', project)
          .where('user_id', '=', userId)
          .executeTakeFirst();
        if (removed.numDeletedRows === 0n) return false;
        await appendChange(tx, { kind: 'user', id: userId });
        return true;
      });
    },
    async projectRolesOf(userIds) {
      const roles = new Map<string, Record<string, UserRole>>();
      if (userIds.length === 0) return roles;
      const rows = await db
        .selectFrom('project_members')
        .select(['user_id', 'project', 'role'])
        .where('user_id', 'in', [...userIds])
        .execute();
      for (const row of rows) roles.set(row.user_id, { ...roles.get(row.user_id), [row.project]: row.role });
      return roles;
    },
    async insertInvitation(invitation) {
      await db.transaction().execute(async (tx) => {
        await tx
          .updateTable('invitations')
          .set({ revoked_at: invitation.createdAt })
          .where('email', '=', invitation.email)
          .where('accepted_at', 'is', null)
          .where('revoked_at', 'is', null)
          .execute();
        await tx
          .insertInto('invitations')
          .values({
            id: invitation.id,
            email: invitation.email,
            role: invitation.role,
            token_hash: invitation.tokenHash,
            invited_by: invitation.invitedBy,
            created_at: invitation.createdAt,
            expires_at: invitation.expiresAt,
            accepted_at: invitation.acceptedAt,
            accepted_user_id: invitation.acceptedUserId,
            revoked_at: invitation.revokedAt,
          })
          .execute();
      });
    },
    async findInvitationByTokenHash(tokenHash) {
      const row = await db.selectFrom('invitations').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
      return row && toInvitation(row);
    },
    async listPendingInvitations(at) {
      const rows = await db
        .selectFrom('invitations')
        .selectAll()
        .where('accepted_at', 'is', null)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', at)
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .execute();
      return rows.map(toInvitation);
    },
    async revokeInvitation(id, at) {
      return db.transaction().execute(async (tx) => {
        const row = await tx.selectFrom('invitations').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
        if (!row) return 'not-found' as const;
        if (row.accepted_at) return 'accepted' as const;
        if (row.revoked_at) return toInvitation(row);
        const revoked = await tx
          .updateTable('invitations')
          .set({ revoked_at: at })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow();
        return toInvitation(revoked);
      });
    },
    async acceptInvitation(tokenHash, account, at) {
      try {
        return await db.transaction().execute(async (tx) => {
          // The conditional update is the single use: a concurrent acceptance waits on the row, then finds it taken.
          const claimed = await tx
            .updateTable('invitations')
            .set({ accepted_at: at, accepted_user_id: account.id })
            .where('token_hash', '=', tokenHash)
            .where('accepted_at', 'is', null)
            .where('revoked_at', 'is', null)
            .where('expires_at', '>', at)
            .returningAll()
            .executeTakeFirst();
          if (!claimed) {
            const row = await tx.selectFrom('invitations').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
            return invitationRefusal(row && toInvitation(row), at) ?? ('accepted' as const);
          }
          const user = await tx
            .insertInto('users')
            .values({
              id: account.id,
              email: claimed.email,
              name: account.name,
              role: claimed.role,
              disabled: false,
              password_hash: account.passwordHash,
              created_at: at,
              updated_at: at,
            })
            .returningAll()
            .executeTakeFirstOrThrow();
          await appendChange(tx, { kind: 'user', id: user.id });
          return { user: toUser(user), invitation: toInvitation(claimed) };
        });
      } catch (error) {
        // The e-mail has an account already: the transaction rolled back, so the invitation is still open.
        if (isUniqueViolation(error)) return 'email-taken';
        throw error;
      }
    },
  };
}
