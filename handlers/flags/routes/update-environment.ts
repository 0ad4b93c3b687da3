import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { EnvironmentFields, EnvironmentKey, EnvironmentSchema } from '../../../shared/contracts/flags-api.ts';
import { environmentView } from '../environments/environment-view.ts';
import { IfMatchHeaders } from '../flag-schemas.ts';
import type { FlagRouteDeps } from './route-deps.ts';

export function updateEnvironment(app: App, { environments, guard }: FlagRouteDeps): void {
  app.patch(
    '/flags/environments/:environment',
    {
      onRequest: guard('admin'),
      schema: {
        tags: ['environments'],
        summary: 'Rename an environment, protect it (changes there become change requests) or set the approvals they need',
        security: bearerSecurity,
        params: Strict({ environment: EnvironmentKey }),
        headers: IfMatchHeaders,
        body: Strict(
          {
            name: Type.Optional(EnvironmentFields.name),
            protected: Type.Optional(EnvironmentFields.protected),
            requiredApprovals: Type.Optional(EnvironmentFields.requiredApprovals),
          },
          { minProperties: 1, description: 'At least one field' },
        ),
        response: { 200: EnvironmentSchema, ...problemResponses },
      },
    },
    async (request) => environmentView(await environments.update(request.params.environment, request.body, request.headers['if-match'])),
  );
}
