import { principalOf } from '../../../shared/http/authenticate.ts';
import { SegmentKey } from '../../../shared/contracts/targeting-model.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { TargetingRouteDeps } from './route-deps.ts';
import { projectFound } from './project-scopes.ts';
import { IfMatchHeaders, SegmentKeysChange, SegmentKeysResult, segmentBodyLimit } from '../targeting-schemas.ts';

export function changeSegmentKeys(app: App, { service, guard, inProject }: TargetingRouteDeps): void {
  app.patch(
    '/targeting/segments/:key/keys',
    {
      onRequest: guard('editor', inProject.segment),
      bodyLimit: segmentBodyLimit,
      schema: {
        tags: ['segments'],
        summary: 'Add keys to and remove keys from a segment’s included and excluded lists, without sending the lists',
        description:
          'For big segments (up to 100,000 keys a list): a change of a few keys is a request and an answer of a few hundred bytes. Removals apply after additions; a list may not grow past 100,000 keys (400). If-Match guards against lost updates. A change that changes nothing writes nothing (same version).',
        security: bearerSecurity,
        params: Strict({ key: SegmentKey }),
        headers: IfMatchHeaders,
        body: SegmentKeysChange,
        response: { 200: SegmentKeysResult, ...problemResponses },
      },
    },
    async (request, reply) => {
      projectFound(request, `No segment "${request.params.key}"`);
      const segment = await service.changeSegmentKeys(request.params.key, request.body, request.headers['if-match'], principalOf(request));
      return reply.header('etag', `"${segment.version}"`).send({
        key: segment.key,
        project: segment.project,
        version: segment.version,
        includedCount: segment.includedCount,
        excludedCount: segment.excludedCount,
        updatedAt: segment.updatedAt.toISOString(),
      });
    },
  );
}
