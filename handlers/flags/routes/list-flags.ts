import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { Tag } from '../../../shared/contracts/flag-model.ts';
import { Cursor, Limit, Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { FlagRouteDeps } from './route-deps.ts';
import { FlagSchema, FlagTypeSchema } from '../../../shared/contracts/flags-api.ts';
import { toDocument } from '../flag-store.ts';
import { ProjectQuery } from '../../../shared/contracts/project-model.ts';

export function listFlags(app: App, { service, guard, inProject }: FlagRouteDeps): void {
  app.get(
    '/flags',
    {
      onRequest: guard('viewer', inProject.query),
      schema: {
        tags: ['flags'],
        summary: 'List flags, filtered by tag, type and text, a page at a time (by key); archived ones with archived=true',
        security: bearerSecurity,
        querystring: Strict({
          project: ProjectQuery,
          tag: Type.Optional(Tag),
          type: Type.Optional(FlagTypeSchema),
          q: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Text in key, name or description' })),
          limit: Limit,
          cursor: Type.Optional(Cursor),
          archived: Type.Boolean({
            default: false,
            description: 'true: the archived flags (with archivedAt and archivedBy) instead of the active ones',
          }),
        }),
        response: {
          200: Type.Object({ items: Type.Array(FlagSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const { cursor, ...filter } = request.query;
      const page = await service.list({ ...filter, after: cursor });
      return { items: page.items.map(toDocument), nextCursor: page.nextCursor };
    },
  );
}
