import type { CountedEvaluations, EvaluationRecord } from '../../../shared/events/evaluation-event.ts';
import {
  AcceptedSchema,
  IdempotencyKey,
  maxReportAgeMs,
  maxReportAheadMs,
  ReportEvaluationsSchema,
} from '../../../shared/contracts/sdk-api.ts';
import { AppError, type FieldError } from '../../../shared/http/problem.ts';
import { problemResponses, sdkKeySecurity } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import { Type } from 'typebox';
import { ingestBatchId, queueOrRetryLater } from '../ingest-batch.ts';
import { ofAnotherProject, sdkOf } from '../sdk-auth.ts';
import type { EvaluationRouteDeps } from './route-deps.ts';

export function reportEvaluations(app: App, { replica, serverKey, ingest }: EvaluationRouteDeps): void {
  app.post(
    '/events/v1/evaluations',
    {
      onRequest: serverKey,
      // 5,000 evaluations with long targeting keys: more than a configuration request ever needs.
      bodyLimit: 4 * 1024 * 1024,
      schema: {
        tags: ['events'],
        summary:
          'Evaluations an in-process SDK made: counted exactly with the service’s own (same queue, same message schema); 202 once queued',
        security: sdkKeySecurity,
        headers: Type.Object({ 'idempotency-key': Type.Optional(IdempotencyKey) }),
        body: ReportEvaluationsSchema,
        response: { 202: AcceptedSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const grant = sdkOf(request);
      const { environment, keyId } = grant;
      if (!ingest) throw new AppError('SERVICE_UNAVAILABLE', 'This installation does not collect events (EVENTS_TRANSPORT is off)');
      const { evaluations, counts = [] } = request.body;
      const now = Date.now();
      const errors: FieldError[] = [];
      const inRange = (at: number, path: string) => {
        if (at < now - maxReportAgeMs || at > now + maxReportAheadMs) errors.push({ path, message: 'must be within the last 7 days' });
      };
      evaluations.forEach((e, i) => inRange(e.at, `/evaluations/${i}/at`));
      counts.forEach((c, i) => inRange(c.minute, `/counts/${i}/minute`));
      if (errors.length > 0) throw new AppError('VALIDATION_FAILED', 'Some evaluations are too old or in the future', { errors });
      // Evaluations of another project's flags are not the key's to count: left out, yet answered as accepted like
      // those of unknown flags (which are counted), so the answer tells nothing of other projects' flags.
      const compiled = await replica.environment(environment);
      const ours = (e: { flagKey: string }) => !ofAnotherProject(compiled, e.flagKey, grant);
      const accepted = evaluations.length + counts.reduce((n, c) => n + c.count, 0);
      // Each evaluation is a request record of one answer, as the service's own single evaluations are.
      const records: EvaluationRecord[] = evaluations.filter(ours).map((e) => ({
        environment,
        targetingKey: e.targetingKey,
        at: e.at,
        results: [
          { flagKey: e.flagKey, reason: e.reason, ...(e.variant ? { variant: e.variant } : {}), ...(e.ruleId ? { ruleId: e.ruleId } : {}) },
        ],
      }));
      const counted: CountedEvaluations[] = counts
        .filter(ours)
        .map((c) => [c.flagKey, environment, c.variant ?? null, c.reason, c.ruleId ?? null, c.minute, c.count]);
      const batchId = ingestBatchId('e', keyId, request.headers['idempotency-key']);
      await queueOrRetryLater(request, () => ingest.sendEvaluations({ batchId, records, counts: counted, events: records.length }));
      return reply.code(202).send({ accepted, batchId });
    },
  );
}
