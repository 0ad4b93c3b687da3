import { Type } from 'typebox';
import { EnvironmentPatch, FlagKey } from '../../../shared/contracts/flag-model.ts';
import { principalOf } from '../../../shared/http/authenticate.ts';
import { Strict, Timestamp, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import { IfMatchHeaders } from '../flag-schemas.ts';
import { ScheduledChangeSchema, scheduleView } from '../schedules/scheduled-change.ts';
import type { FlagRouteDeps } from './route-deps.ts';

export function scheduleChange(app: App, { schedules, guard, inProject }: FlagRouteDeps): void {
  app.post(
    '/flags/:key/environments/:environment/schedules',
    {
      onRequest: guard('editor', inProject.flag),
      schema: {
        tags: ['schedules'],
        summary: 'Schedule a change of a flag in one environment for a time (applied once, against the version sent as If-Match)',
        security: bearerSecurity,
        params: Strict({ key: FlagKey, environment: Type.String({ minLength: 1, maxLength: 64 }) }),
        headers: IfMatchHeaders,
        body: Strict({ runAt: Timestamp, change: EnvironmentPatch }),
        response: { 201: ScheduledChangeSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { key, environment } = request.params;
      const schedule = await schedules.create(key, environment, request.body, request.headers['if-match'], principalOf(request));
      return reply.code(201).header('etag', `"${schedule.version}"`).send(scheduleView(schedule));
    },
  );
}
