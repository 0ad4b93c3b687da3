import type { App } from '../../../shared/http/server.ts';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { Strict, readerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { readerOf } from '../../../shared/http/authenticate.ts';
import type { FlagRouteDeps } from '../flags-routes.ts';
import { FlagSchema, sendFlag } from '../flag-schemas.ts';

export function getFlag(app: App, { service, reader }: FlagRouteDeps): void {
  app.get(
    '/flags/:key',
    {
      onRequest: reader,
      schema: { tags: ['flags'], summary: 'A flag with its state in every environment; the ETag is its version', security: readerSecurity, params: Strict({ key: FlagKey }), response: { 200: FlagSchema, ...problemResponses } },
    },
    async (request, reply) => sendFlag(reply, await service.get(request.params.key), 200, readerOf(request)),
  );
}
