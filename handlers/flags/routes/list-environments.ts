import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { EnvironmentSchema } from '../../../shared/contracts/flags-api.ts';
import { environmentView } from '../environments/environment-view.ts';
import type { FlagRouteDeps } from './route-deps.ts';

export function listEnvironments(app: App, { environments, guard }: FlagRouteDeps): void {
  app.get(
    '/flags/environments',
    {
      onRequest: guard('viewer'),
      schema: {
        tags: ['environments'],
        summary: 'The environments every flag has a state in, in their order',
        security: bearerSecurity,
        response: { 200: Type.Object({ items: Type.Array(EnvironmentSchema) }), ...problemResponses },
      },
    },
    async () => ({ items: (await environments.list()).map(environmentView) }),
  );
}
