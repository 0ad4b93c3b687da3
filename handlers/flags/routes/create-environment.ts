import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { EnvironmentFields, EnvironmentKey, EnvironmentSchema } from '../../../shared/contracts/flags-api.ts';
import { environmentView } from '../environments/environment-view.ts';
import type { FlagRouteDeps } from './route-deps.ts';

export function createEnvironment(app: App, { environments, guard }: FlagRouteDeps): void {
  app.post(
    '/flags/environments',
    {
      onRequest: guard('admin'),
      schema: {
        tags: ['environments'],
        summary: 'Add an environment, last in the order; every flag starts off there',
        security: bearerSecurity,
        body: Strict({
          key: EnvironmentKey,
          name: Type.Optional(EnvironmentFields.name),
          protected: Type.Optional(EnvironmentFields.protected),
          requiredApprovals: Type.Optional(EnvironmentFields.requiredApprovals),
        }),
        response: { 201: EnvironmentSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { key, ...settings } = request.body;
      return reply.code(201).send(environmentView(await environments.create(key, settings)));
    },
  );
}
