import { createHash, randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { MetricName } from '../../../shared/contracts/flags-api.ts';
import { evaluateFlag } from '../../../shared/engine/index.ts';
import { aggregateMetrics } from '../../../shared/events/metric-event.ts';
import { AppError, type FieldError } from '../../../shared/http/problem.ts';
import { Strict, problemResponses, sdkKeySecurity } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import { ContextSchema } from '../evaluation-schemas.ts';
import { sdkOf } from '../sdk-auth.ts';
import type { EvaluationRouteDeps } from './route-deps.ts';

/** Values beyond this are surely a unit mistake; bounded, their squares still add up exactly enough in a double. */
const maxAbsoluteValue = 1e12;

const TrackEvent = Strict({
  name: MetricName,
  flagKey: FlagKey,
  variant: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 100,
      description: 'The variant the user was served; left out, it is evaluated from the context',
    }),
  ),
  value: Type.Optional(
    Type.Number({
      minimum: -maxAbsoluteValue,
      maximum: maxAbsoluteValue,
      description: 'The measurement (an error: 1, a success: 0; a latency in ms…); 1 when left out',
    }),
  ),
  context: Type.Optional(ContextSchema),
});

export function trackEvents(app: App, { replica, anyKey, metricEvents }: EvaluationRouteDeps): void {
  app.post(
    '/events/v1/track',
    {
      onRequest: anyKey,
      schema: {
        tags: ['events'],
        summary:
          'Metric events (OpenFeature tracking) for release guardrails: summed exactly per flag, variant and minute; 202 once queued',
        security: sdkKeySecurity,
        headers: Type.Object({
          'idempotency-key': Type.Optional(
            Type.String({
              pattern: '^[A-Za-z0-9_-]{8,64}$',
              description: 'Sending a request again with the same key (after a timeout or a 503) counts its events once',
            }),
          ),
        }),
        body: Strict({ events: Type.Array(TrackEvent, { minItems: 1, maxItems: 1000 }) }),
        response: { 202: Type.Object({ accepted: Type.Integer(), batchId: Type.String() }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const { environment, kind, keyId } = sdkOf(request);
      if (!metricEvents) throw new AppError('SERVICE_UNAVAILABLE', 'This installation does not collect events (EVENTS_TRANSPORT is off)');
      const compiled = await replica.environment(environment);
      const at = Date.now();
      const errors: FieldError[] = [];
      const events = request.body.events.map((event, i) => {
        let variant = event.variant;
        if (variant === undefined) {
          // Joined on the exposure: assignment is deterministic, so evaluating again tells which variant the user got.
          const result = evaluateFlag(compiled, event.flagKey, event.context ?? {}, { clientSide: kind === 'client' });
          variant = result.variant;
          if (variant === undefined)
            errors.push({
              path: `/events/${i}`,
              message: result.errorMessage ?? `flag "${event.flagKey}" served no variant to this context`,
            });
        } else if (!compiled.flags.has(event.flagKey) || (kind === 'client' && !compiled.flags.get(event.flagKey)!.clientVisible)) {
          errors.push({ path: `/events/${i}/flagKey`, message: `no flag "${event.flagKey}" in ${environment}` });
        }
        return { flagKey: event.flagKey, environment, variant: variant ?? '', metric: event.name, at, value: event.value ?? 1 };
      });
      // All or nothing: a request is accepted whole, or refused whole with every event that is wrong named.
      if (errors.length > 0)
        throw new AppError('VALIDATION_FAILED', `${errors.length} event(s) cannot be attributed to a flag's variant`, { errors });
      const idempotencyKey = request.headers['idempotency-key'];
      const batchId = idempotencyKey
        ? `m${createHash('sha256').update(`${keyId}\u0000${idempotencyKey}`).digest('base64url').slice(0, 32)}`
        : `m${randomUUID().replaceAll('-', '')}`;
      try {
        await metricEvents.send(batchId, aggregateMetrics(events), events.length);
      } catch (error) {
        request.log.warn({ err: error }, 'metric events not queued; the client is told to send them again');
        throw new AppError('SERVICE_UNAVAILABLE', 'The events could not be queued; send them again (with the same Idempotency-Key)', {
          headers: { 'retry-after': '1' },
        });
      }
      return reply.code(202).send({ accepted: events.length, batchId });
    },
  );
}
