import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { EnvironmentKey, EnvironmentSchema } from '../../../shared/contracts/flags-api.ts';
import { environmentView } from '../environments/environment-view.ts';
import type { FlagRouteDeps } from './route-deps.ts';

export function reorderEnvironments(app: App, { environments, guard }: FlagRouteDeps): void {
  app.put(
    '/flags/environments/order',
    {
      onRequest: guard('admin'),
      schema: {
        tags: ['environments'],
        summary: 'Set the environments’ order (every key, once)',
        security: bearerSecurity,
        body: Strict({ keys: Type.Array(EnvironmentKey, { minItems: 1, maxItems: 50 }) }),
        response: { 200: Type.Object({ items: Type.Array(EnvironmentSchema) }), ...problemResponses },
      },
    },
    async (request) => ({ items: (await environments.reorder(request.body.keys)).map(environmentView) }),
  );
}
