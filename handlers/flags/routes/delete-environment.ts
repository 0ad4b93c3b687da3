import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { callerCredential } from '../../../shared/http/authenticate.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { EnvironmentKey } from '../../../shared/contracts/flags-api.ts';
import type { FlagRouteDeps } from './route-deps.ts';

export function deleteEnvironment(app: App, { environments, guard }: FlagRouteDeps): void {
  app.delete(
    '/flags/environments/:environment',
    {
      onRequest: guard('admin'),
      schema: {
        tags: ['environments'],
        summary: 'Delete an empty environment: no flag on there, no targeting rule, no live SDK key, no pending schedule or running plan',
        description: 'Refused (409) otherwise, naming what is still there.',
        security: bearerSecurity,
        params: Strict({ environment: EnvironmentKey }),
        response: { 204: Type.Null({ description: 'Deleted' }), ...problemResponses },
      },
    },
    async (request, reply) => {
      await environments.delete(request.params.environment, callerCredential(request));
      return reply.code(204).send(null);
    },
  );
}
