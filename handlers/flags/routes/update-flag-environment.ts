import type { App } from '../../../shared/http/server.ts';
import { principalOf } from '../../../shared/http/authenticate.ts';
import { EnvironmentPatch, FlagKey } from '../../../shared/contracts/flag-model.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { Type } from 'typebox';
import type { FlagRouteDeps } from './route-deps.ts';
import { IfMatchHeaders, sendFlag } from '../flag-schemas.ts';
import { FlagSchema } from '../../../shared/contracts/flags-api.ts';

export function updateFlagEnvironment(app: App, { service, guard, inProject }: FlagRouteDeps): void {
  app.patch(
    '/flags/:key/environments/:environment',
    {
      onRequest: guard('editor', inProject.flag),
      schema: {
        tags: ['flags'],
        summary: 'Change a flag in one environment: on/off (kill switch), off variant, default serve, prerequisites',
        security: bearerSecurity,
        params: Strict({ key: FlagKey, environment: Type.String({ minLength: 1, maxLength: 64 }) }),
        headers: IfMatchHeaders,
        body: EnvironmentPatch,
        response: { 200: FlagSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { key, environment } = request.params;
      return sendFlag(
        reply,
        await service.updateEnvironment(key, environment, request.body, request.headers['if-match'], principalOf(request)),
      );
    },
  );
}
