import { Type } from 'typebox';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import { ScheduledChangeSchema, scheduleView } from '../schedules/scheduled-change.ts';
import type { FlagRouteDeps } from './route-deps.ts';

export function listSchedules(app: App, { schedules, guard, inProject }: FlagRouteDeps): void {
  app.get(
    '/flags/:key/schedules',
    {
      onRequest: guard('viewer', inProject.flag),
      schema: {
        tags: ['schedules'],
        summary: "A flag's scheduled changes: every pending one, earliest first, then the latest 100 that ended (latest first)",
        security: bearerSecurity,
        params: Strict({ key: FlagKey }),
        response: { 200: Type.Object({ items: Type.Array(ScheduledChangeSchema) }), ...problemResponses },
      },
    },
    async (request) => ({ items: (await schedules.list(request.params.key)).map(scheduleView) }),
  );
}
