import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { callerCredential, principalOf } from '../../../shared/http/authenticate.ts';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { FlagRouteDeps } from './route-deps.ts';
import { IfMatchHeaders } from '../flag-schemas.ts';

export function purgeFlag(app: App, { service, guard, inProject }: FlagRouteDeps): void {
  app.post(
    '/flags/:key/purge',
    {
      onRequest: guard('admin', inProject.flag),
      schema: {
        tags: ['flags'],
        summary: 'Remove an archived flag for good (admins): its targeting rules, then the flag; its history stays',
        description:
          'Only an archived flag can be purged (409 for an active one). Its targeting rules are deleted through the targeting service first (503 when it does not answer: the flag stays archived, a second purge finishes), so a flag created later with the same key starts without them. Refused (409) while another flag, archived or not, has it as a prerequisite. `GET /flags/{key}/history` keeps answering, ending with `purged`.',
        security: bearerSecurity,
        params: Strict({ key: FlagKey }),
        headers: IfMatchHeaders,
        response: { 204: Type.Null({ description: 'Purged' }), ...problemResponses },
      },
    },
    async (request, reply) => {
      await service.purge(request.params.key, request.headers['if-match'], principalOf(request), callerCredential(request));
      return reply.code(204).send(null);
    },
  );
}
