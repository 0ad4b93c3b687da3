import { Type } from 'typebox';
import { AcceptedSchema, IdempotencyKey, maxReportAgeMs, maxReportAheadMs, TrackEventsSchema } from '../../../shared/contracts/sdk-api.ts';
import { evaluateFlag } from '../../../shared/engine/index.ts';
import { aggregateMetrics } from '../../../shared/events/metric-event.ts';
import { AppError, type FieldError } from '../../../shared/http/problem.ts';
import { problemResponses, sdkKeySecurity } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import { ofAnotherProject, scopeOf, sdkOf } from '../sdk-auth.ts';
import { ingestBatchId, queueOrRetryLater } from '../ingest-batch.ts';
import type { EvaluationRouteDeps } from './route-deps.ts';

export function trackEvents(app: App, { replica, anyKey, ingest }: EvaluationRouteDeps): void {
  app.post(
    '/events/v1/track',
    {
      onRequest: anyKey,
      schema: {
        tags: ['events'],
        summary:
          'Metric events (OpenFeature tracking) for release guardrails: summed exactly per flag, variant and minute; 202 once queued',
        security: sdkKeySecurity,
        headers: Type.Object({ 'idempotency-key': Type.Optional(IdempotencyKey) }),
        body: TrackEventsSchema,
        response: { 202: AcceptedSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const grant = sdkOf(request);
      const { environment, kind, keyId } = grant;
      if (!ingest) throw new AppError('SERVICE_UNAVAILABLE', 'This installation does not collect events (EVENTS_TRANSPORT is off)');
      const compiled = await replica.environment(environment);
      const now = Date.now();
      const errors: FieldError[] = [];
      const events = request.body.events.map((event, i) => {
        let variant = event.variant;
        if (variant === undefined) {
          // Joined on the exposure: assignment is deterministic, so evaluating again tells which variant the user got.
          const result = evaluateFlag(compiled, event.flagKey, event.context ?? {}, scopeOf(grant));
          variant = result.variant;
          if (variant === undefined)
            errors.push({
              path: `/events/${i}`,
              message: result.errorMessage ?? `flag "${event.flagKey}" served no variant to this context`,
            });
        } else if (
          // Attributed only to a flag the key may evaluate: another project's is as unknown to it as no flag.
          !compiled.flags.has(event.flagKey) ||
          ofAnotherProject(compiled, event.flagKey, grant) ||
          (kind === 'client' && !compiled.flags.get(event.flagKey)!.clientVisible)
        ) {
          errors.push({ path: `/events/${i}/flagKey`, message: `no flag "${event.flagKey}" in ${environment}` });
        }
        const at = event.at ?? now;
        if (at < now - maxReportAgeMs || at > now + maxReportAheadMs)
          errors.push({ path: `/events/${i}/at`, message: 'must be within the last 7 days' });
        return { flagKey: event.flagKey, environment, variant: variant ?? '', metric: event.name, at, value: event.value ?? 1 };
      });
      // All or nothing: a request is accepted whole, or refused whole with every event that is wrong named.
      if (errors.length > 0)
        throw new AppError('VALIDATION_FAILED', `${errors.length} event(s) cannot be attributed to a flag's variant or time`, { errors });
      const batchId = ingestBatchId('m', keyId, request.headers['idempotency-key']);
      await queueOrRetryLater(request, () => ingest.sendMetrics(batchId, aggregateMetrics(events), events.length));
      return reply.code(202).send({ accepted: events.length, batchId });
    },
  );
}
