import type { App } from '../../../shared/http/server.ts';
import { principalOf } from '../../../shared/http/authenticate.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { FlagRouteDeps } from './route-deps.ts';
import { ProjectQuery } from '../../../shared/contracts/project-model.ts';
import { NewFlagBody, sendFlag } from '../flag-schemas.ts';
import { FlagSchema } from '../../../shared/contracts/flags-api.ts';

export function createFlag(app: App, { service, guard, inProject }: FlagRouteDeps): void {
  app.post(
    '/flags',
    {
      onRequest: guard('editor', inProject.query),
      schema: {
        tags: ['flags'],
        summary: 'Create a flag (off in every environment unless said otherwise)',
        security: bearerSecurity,
        querystring: Strict({ project: ProjectQuery }),
        body: Strict(NewFlagBody),
        response: { 201: FlagSchema, ...problemResponses },
      },
    },
    async (request, reply) => sendFlag(reply, await service.create(request.body, principalOf(request), request.query.project), 201),
  );
}
