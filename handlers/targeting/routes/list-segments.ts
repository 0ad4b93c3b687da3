import { Type } from 'typebox';
import { bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { TargetingRouteDeps } from './route-deps.ts';
import { SegmentSchema } from '../../../shared/contracts/targeting-api.ts';

export function listSegments(app: App, { service, guard }: TargetingRouteDeps): void {
  app.get(
    '/targeting/segments',
    {
      onRequest: guard('viewer'),
      schema: {
        tags: ['segments'],
        summary: 'Every segment',
        security: bearerSecurity,
        response: { 200: Type.Object({ items: Type.Array(SegmentSchema) }), ...problemResponses },
      },
    },
    async () => ({ items: await service.listSegments() }),
  );
}
