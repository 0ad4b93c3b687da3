import { Type } from 'typebox';
import { SegmentKey } from '../../../shared/contracts/targeting-model.ts';
import { principalOf } from '../../../shared/http/authenticate.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { TargetingRouteDeps } from './route-deps.ts';
import { projectFound } from './project-scopes.ts';
import { IfMatchHeaders } from '../targeting-schemas.ts';

export function deleteSegment(app: App, { service, guard, inProject }: TargetingRouteDeps): void {
  app.delete(
    '/targeting/segments/:key',
    {
      onRequest: guard('editor', inProject.segment),
      schema: {
        tags: ['segments'],
        summary: 'Delete a segment (refused while a rule uses it)',
        security: bearerSecurity,
        params: Strict({ key: SegmentKey }),
        headers: IfMatchHeaders,
        response: { 204: Type.Null({ description: 'Deleted' }), ...problemResponses },
      },
    },
    async (request, reply) => {
      projectFound(request, `No segment "${request.params.key}"`);
      await service.deleteSegment(request.params.key, request.headers['if-match'], principalOf(request));
      return reply.code(204).send(null);
    },
  );
}
