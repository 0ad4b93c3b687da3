import type { App } from '../../../shared/http/server.ts';
import { callerCredential, principalOf } from '../../../shared/http/authenticate.ts';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { FlagRouteDeps } from './route-deps.ts';
import { FlagReplacementFields, IfMatchHeaders, sendFlag } from '../flag-schemas.ts';
import { FlagSchema } from '../../../shared/contracts/flags-api.ts';

export function updateFlag(app: App, { service, guard, inProject }: FlagRouteDeps): void {
  app.put(
    '/flags/:key',
    {
      onRequest: guard('editor', inProject.flag),
      schema: {
        tags: ['flags'],
        summary:
          "Replace a flag's definition (name, description, tags, type, variants); the document GET answered may be sent back as it was; removing a variant a targeting rule serves is a 409; If-Match guards against lost updates",
        security: bearerSecurity,
        params: Strict({ key: FlagKey }),
        headers: IfMatchHeaders,
        body: Strict(FlagReplacementFields),
        response: { 200: FlagSchema, ...problemResponses },
      },
    },
    async (request, reply) =>
      sendFlag(
        reply,
        await service.update(
          request.params.key,
          request.body,
          request.headers['if-match'],
          principalOf(request),
          callerCredential(request),
        ),
      ),
  );
}
