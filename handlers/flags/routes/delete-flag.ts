import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { principalOf } from '../../../shared/http/authenticate.ts';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { FlagRouteDeps } from './route-deps.ts';
import { IfMatchHeaders } from '../flag-schemas.ts';

export function deleteFlag(app: App, { service, guard }: FlagRouteDeps): void {
  app.delete(
    '/flags/:key',
    {
      onRequest: guard('editor'),
      schema: {
        tags: ['flags'],
        summary: 'Delete a flag (refused while another flag has it as a prerequisite); its history stays',
        security: bearerSecurity,
        params: Strict({ key: FlagKey }),
        headers: IfMatchHeaders,
        response: { 204: Type.Null({ description: 'Deleted' }), ...problemResponses },
      },
    },
    async (request, reply) => {
      await service.delete(request.params.key, request.headers['if-match'], principalOf(request));
      return reply.code(204).send(null);
    },
  );
}
