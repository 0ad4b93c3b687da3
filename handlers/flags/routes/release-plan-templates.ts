import { Type } from 'typebox';
import { principalOf } from '../../../shared/http/authenticate.ts';
import { Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import { Milestone, ReleasePlanTemplateSchema, templateView } from '../release-plans/release-plan.ts';
import type { FlagRouteDeps } from './route-deps.ts';

/** Saved milestones (e.g. 1/10/50/100 % over a day): listed, saved, deleted; a plan starts from one by its id. */
export function releasePlanTemplates(app: App, { releasePlans, guard }: FlagRouteDeps): void {
  app.get(
    '/flags/release-plan-templates',
    {
      onRequest: guard('viewer'),
      schema: {
        tags: ['release plans'],
        summary: 'Release plan templates, by name',
        security: bearerSecurity,
        response: { 200: Type.Object({ items: Type.Array(ReleasePlanTemplateSchema) }), ...problemResponses },
      },
    },
    async () => ({ items: (await releasePlans.listTemplates()).map(templateView) }),
  );
  app.post(
    '/flags/release-plan-templates',
    {
      onRequest: guard('editor'),
      schema: {
        tags: ['release plans'],
        summary: 'Save milestones under a name, to start release plans from',
        security: bearerSecurity,
        body: Strict({
          name: Type.String({ minLength: 1, maxLength: 100 }),
          milestones: Type.Array(Milestone, { minItems: 1, maxItems: 20 }),
        }),
        response: { 201: ReleasePlanTemplateSchema, ...problemResponses },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(templateView(await releasePlans.createTemplate(request.body.name, request.body.milestones, principalOf(request)))),
  );
  app.delete(
    '/flags/release-plan-templates/:id',
    {
      onRequest: guard('editor'),
      schema: {
        tags: ['release plans'],
        summary: 'Delete a release plan template (plans started from it keep their milestones)',
        security: bearerSecurity,
        params: Strict({ id: Uuid }),
        response: { 204: Type.Null(), ...problemResponses },
      },
    },
    async (request, reply) => {
      await releasePlans.deleteTemplate(request.params.id);
      return reply.code(204).send(null);
    },
  );
}
