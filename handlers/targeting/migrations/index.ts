import type { Migration } from 'kysely/migration';
import * as rulesSegmentsAuditOutbox from './0001-rules-segments-audit-outbox.ts';
import * as outboxDeliveryAttempts from './0002-outbox-delivery-attempts.ts';
import * as projects from './0003-projects.ts';
import * as segmentKeys from './0004-segment-keys.ts';

/** The service's PostgreSQL schema. */
export const targetingSchema = 'targeting';

/** Forward-only; a new migration is a new file added at the end, never an edit of one that shipped. */
export const targetingMigrations: Record<string, Migration> = {
  '0001-rules-segments-audit-outbox': rulesSegmentsAuditOutbox,
  '0002-outbox-delivery-attempts': outboxDeliveryAttempts,
  '0003-projects': projects,
  '0004-segment-keys': segmentKeys,
};
