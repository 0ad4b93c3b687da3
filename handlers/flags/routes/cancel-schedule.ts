import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { principalOf } from '../../../shared/http/authenticate.ts';
import { Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import { Type } from 'typebox';
import type { FlagRouteDeps } from './route-deps.ts';

export function cancelSchedule(app: App, { schedules, guard, inProject }: FlagRouteDeps): void {
  app.delete(
    '/flags/:key/schedules/:id',
    {
      onRequest: guard('editor', inProject.flag),
      schema: {
        tags: ['schedules'],
        summary: 'Cancel a pending scheduled change (it stays listed, as cancelled)',
        security: bearerSecurity,
        params: Strict({ key: FlagKey, id: Uuid }),
        response: { 204: Type.Null(), ...problemResponses },
      },
    },
    async (request, reply) => {
      await schedules.cancel(request.params.key, request.params.id, principalOf(request));
      return reply.code(204).send(null);
    },
  );
}
