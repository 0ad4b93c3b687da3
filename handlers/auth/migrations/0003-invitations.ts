import { sql, type Kysely } from 'kysely';

/**
 * Invitations: an admin invites one e-mail address with a role; the link's token is kept only as its SHA-256. An
 * invitation is open until it is accepted (once: `accepted_at` is set by a conditional update in the transaction that
 * creates the account), revoked, or past `expires_at`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('invitations')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('viewer', 'editor', 'admin')`))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('invited_by', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('accepted_at', 'timestamptz')
    .addColumn('accepted_user_id', 'uuid')
    .addColumn('revoked_at', 'timestamptz')
    // Checked at commit: the acceptance claims the invitation first (its single use), then inserts the account.
    .addForeignKeyConstraint('invitations_accepted_user_id_fkey', ['accepted_user_id'], 'users', ['id'], (fk) =>
      fk.deferrable().initiallyDeferred(),
    )
    .addCheckConstraint('invitations_accepted_has_user', sql`(accepted_at is null) = (accepted_user_id is null)`)
    .execute();
  // The open invitations, newest first (the admins' list) and by e-mail (a new one replaces the open ones of its e-mail).
  await db.schema
    .createIndex('invitations_open_by_created')
    .on('invitations')
    .column('created_at')
    .where(sql.ref('accepted_at'), 'is', null)
    .where(sql.ref('revoked_at'), 'is', null)
    .execute();
  await db.schema
    .createIndex('invitations_open_by_email')
    .on('invitations')
    .column('email')
    .where(sql.ref('accepted_at'), 'is', null)
    .where(sql.ref('revoked_at'), 'is', null)
    .execute();
}
