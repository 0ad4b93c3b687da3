import type { App } from '../../../shared/http/server.ts';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { FlagRouteDeps } from './route-deps.ts';
import { sendFlag } from '../flag-schemas.ts';
import { FlagSchema } from '../../../shared/contracts/flags-api.ts';

export function getFlag(app: App, { service, guard, inProject }: FlagRouteDeps): void {
  app.get(
    '/flags/:key',
    {
      onRequest: guard('viewer', inProject.flag),
      schema: {
        tags: ['flags'],
        summary:
          'A flag with its state in every environment; the ETag is its version. An archived flag is answered too, with archivedAt and archivedBy (evaluation does not know it)',
        security: bearerSecurity,
        params: Strict({ key: FlagKey }),
        response: { 200: FlagSchema, ...problemResponses },
      },
    },
    async (request, reply) => sendFlag(reply, await service.get(request.params.key)),
  );
}
