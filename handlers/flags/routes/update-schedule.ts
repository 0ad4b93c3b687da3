import { EnvironmentPatch, FlagKey } from '../../../shared/contracts/flag-model.ts';
import { Strict, Timestamp, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import { Type } from 'typebox';
import { IfMatchHeaders } from '../flag-schemas.ts';
import { ScheduledChangeSchema, scheduleView } from '../schedules/scheduled-change.ts';
import type { FlagRouteDeps } from './route-deps.ts';

export function updateSchedule(app: App, { schedules, guard, inProject }: FlagRouteDeps): void {
  app.patch(
    '/flags/:key/schedules/:id',
    {
      onRequest: guard('editor', inProject.flag),
      schema: {
        tags: ['schedules'],
        summary: 'Move or change a pending scheduled change (planned again against the flag as it is now)',
        security: bearerSecurity,
        params: Strict({ key: FlagKey, id: Uuid }),
        headers: IfMatchHeaders,
        body: Strict({ runAt: Type.Optional(Timestamp), change: Type.Optional(EnvironmentPatch) }, { minProperties: 1 }),
        response: { 200: ScheduledChangeSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const schedule = await schedules.update(request.params.key, request.params.id, request.body, request.headers['if-match']);
      return reply.header('etag', `"${schedule.version}"`).send(scheduleView(schedule));
    },
  );
}
