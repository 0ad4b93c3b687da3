import type { App } from '../../../shared/http/server.ts';
import { principalOf } from '../../../shared/http/authenticate.ts';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { FlagRouteDeps } from './route-deps.ts';
import { IfMatchHeaders, sendFlag } from '../flag-schemas.ts';
import { FlagSchema } from '../../../shared/contracts/flags-api.ts';

export function restoreFlag(app: App, { service, guard, inProject }: FlagRouteDeps): void {
  app.post(
    '/flags/:key/restore',
    {
      onRequest: guard('editor', inProject.flag),
      schema: {
        tags: ['flags'],
        summary:
          'Restore an archived flag exactly as it was archived (every environment’s state, its rules); evaluated again within a second',
        description:
          'Cancelled scheduled changes stay cancelled; a release plan paused by the archive can be resumed. Refused (409) when the flag is not archived, or while a prerequisite it names is archived or gone.',
        security: bearerSecurity,
        params: Strict({ key: FlagKey }),
        headers: IfMatchHeaders,
        response: { 200: FlagSchema, ...problemResponses },
      },
    },
    async (request, reply) => sendFlag(reply, await service.restore(request.params.key, request.headers['if-match'], principalOf(request))),
  );
}
