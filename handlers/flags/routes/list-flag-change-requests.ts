import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { Limit, Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { ChangeRequestSchema } from '../../../shared/contracts/flags-api.ts';
import { changeRequestView } from '../change-requests/change-request.ts';
import type { FlagRouteDeps } from './route-deps.ts';

export function listFlagChangeRequests(app: App, { changeRequests, service, guard, inProject }: FlagRouteDeps): void {
  app.get(
    '/flags/:key/change-requests',
    {
      onRequest: guard('viewer', inProject.flag),
      schema: {
        tags: ['change requests'],
        summary: 'A flag’s change requests, newest first',
        security: bearerSecurity,
        params: Strict({ key: FlagKey }),
        querystring: Strict({ waiting: Type.Boolean({ default: false }), limit: Limit }),
        response: { 200: Type.Object({ items: Type.Array(ChangeRequestSchema) }), ...problemResponses },
      },
    },
    async (request) => {
      await service.get(request.params.key);
      return { items: (await changeRequests.list({ ...request.query, flagKey: request.params.key })).map(changeRequestView) };
    },
  );
}
