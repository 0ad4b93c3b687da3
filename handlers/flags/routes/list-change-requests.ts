import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { Limit, Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { ChangeRequestSchema } from '../../../shared/contracts/flags-api.ts';
import { changeRequestView } from '../change-requests/change-request.ts';
import type { FlagRouteDeps } from './route-deps.ts';
import { ProjectQuery } from '../../../shared/contracts/project-model.ts';

export function listChangeRequests(app: App, { changeRequests, guard, inProject }: FlagRouteDeps): void {
  app.get(
    '/flags/change-requests',
    {
      onRequest: guard('viewer', inProject.query),
      schema: {
        tags: ['change requests'],
        summary: 'Change requests of every flag, newest first; `waiting=true`: those open or approved and not applied yet',
        security: bearerSecurity,
        querystring: Strict({ project: ProjectQuery, waiting: Type.Boolean({ default: false }), limit: Limit }),
        response: { 200: Type.Object({ items: Type.Array(ChangeRequestSchema) }), ...problemResponses },
      },
    },
    async (request) => ({ items: (await changeRequests.list(request.query)).map(changeRequestView) }),
  );
}
