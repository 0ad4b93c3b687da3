import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { principalOf } from '../../../shared/http/authenticate.ts';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { FlagRouteDeps } from './route-deps.ts';
import { IfMatchHeaders } from '../flag-schemas.ts';

/** DELETE archives (issue 18): a flag is removed for good only by an admin's purge of an archived flag. */
export function deleteFlag(app: App, { service, guard, inProject }: FlagRouteDeps): void {
  app.delete(
    '/flags/:key',
    {
      onRequest: guard('editor', inProject.flag),
      schema: {
        tags: ['flags'],
        summary: 'Archive a flag: evaluation answers FLAG_NOT_FOUND; its history, state and rules are kept (restore, or purge)',
        description:
          'The flag leaves evaluation everywhere (OFREP, the SDK configuration, event streams, /targeting/match) and the default list; `GET /flags/{key}` still answers it, with `archivedAt`/`archivedBy`, and `GET /flags?archived=true` lists it. Its pending scheduled changes are cancelled and its active release plans paused, in the same transaction. Its key stays taken. Refused (409) while another active flag has it as a prerequisite. `POST /flags/{key}/restore` brings it back; an admin may then `POST /flags/{key}/purge` it.',
        security: bearerSecurity,
        params: Strict({ key: FlagKey }),
        headers: IfMatchHeaders,
        response: { 204: Type.Null({ description: 'Archived' }), ...problemResponses },
      },
    },
    async (request, reply) => {
      await service.archive(request.params.key, request.headers['if-match'], principalOf(request));
      return reply.code(204).send(null);
    },
  );
}
