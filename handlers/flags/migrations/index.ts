import type { Migration } from 'kysely/migration';
import * as flagsAuditOutbox from './0001-flags-audit-outbox.ts';
import * as outboxDeliveryAttempts from './0002-outbox-delivery-attempts.ts';
import * as clientVisible from './0003-client-visible.ts';
import * as scheduledChanges from './0004-scheduled-changes.ts';
import * as releasePlans from './0005-release-plans.ts';
import * as releasePlanTemplates from './0006-release-plan-templates.ts';
import * as scheduledChangePlannedState from './0007-scheduled-change-planned-state.ts';
import * as releasePlanApproverAndServe from './0008-release-plan-approver-and-serve.ts';
import * as releasePlanGuardrails from './0009-release-plan-guardrails.ts';
import * as releaseEvents from './0010-release-events.ts';
import * as archivedFlags from './0011-archived-flags.ts';
import * as webhooks from './0012-webhooks.ts';
import * as environments from './0013-environments.ts';
import * as changeRequests from './0014-change-requests.ts';
import * as ruleChangeRequests from './0015-rule-change-requests.ts';
import * as projects from './0016-projects.ts';

/** The service's PostgreSQL schema. */
export const flagsSchema = 'flags';

/** Forward-only; a new migration is a new file added at the end, never an edit of one that shipped. */
export const flagsMigrations: Record<string, Migration> = {
  '0001-flags-audit-outbox': flagsAuditOutbox,
  '0002-outbox-delivery-attempts': outboxDeliveryAttempts,
  '0003-client-visible': clientVisible,
  '0004-scheduled-changes': scheduledChanges,
  '0005-release-plans': releasePlans,
  '0006-release-plan-templates': releasePlanTemplates,
  '0007-scheduled-change-planned-state': scheduledChangePlannedState,
  '0008-release-plan-approver-and-serve': releasePlanApproverAndServe,
  '0009-release-plan-guardrails': releasePlanGuardrails,
  '0010-release-events': releaseEvents,
  '0011-archived-flags': archivedFlags,
  '0012-webhooks': webhooks,
  '0013-environments': environments,
  '0014-change-requests': changeRequests,
  '0015-rule-change-requests': ruleChangeRequests,
  '0016-projects': projects,
};
