import type { Migration } from 'kysely/migration';
import * as usersAndApiKeys from './0001-users-and-api-keys.ts';
import * as accessOutboxAndKeyKind from './0002-access-outbox-and-key-kind.ts';
import * as invitations from './0003-invitations.ts';
import * as projects from './0004-projects.ts';

/** The service's PostgreSQL schema. */
export const authSchema = 'auth';

/** Forward-only; a new migration is a new file added at the end, never an edit of one that shipped. */
export const authMigrations: Record<string, Migration> = {
  '0001-users-and-api-keys': usersAndApiKeys,
  '0002-access-outbox-and-key-kind': accessOutboxAndKeyKind,
  '0003-invitations': invitations,
  '0004-projects': projects,
};
