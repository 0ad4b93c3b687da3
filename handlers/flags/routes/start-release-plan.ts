import { Type } from 'typebox';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { principalOf } from '../../../shared/http/authenticate.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import { IfMatchHeaders } from '../flag-schemas.ts';
import { ReleasePlanSchema, releasePlanView } from '../release-plans/release-plan.ts';
import { ReleasePlanStartSchema } from '../../../shared/contracts/flags-api.ts';
import type { FlagRouteDeps } from './route-deps.ts';

export function startReleasePlan(app: App, { releasePlans, guard, inProject }: FlagRouteDeps): void {
  app.post(
    '/flags/:key/environments/:environment/release-plans',
    {
      onRequest: guard('editor', inProject.flag),
      schema: {
        tags: ['release plans'],
        summary:
          'Release a flag in one environment by milestones (e.g. 1 → 10 → 50 → 100 %): the first applies now, each next one after the hold time',
        security: bearerSecurity,
        params: Strict({ key: FlagKey, environment: Type.String({ minLength: 1, maxLength: 64 }) }),
        headers: IfMatchHeaders,
        body: ReleasePlanStartSchema,
        response: { 201: ReleasePlanSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { key, environment } = request.params;
      const plan = await releasePlans.start(key, environment, request.body, request.headers['if-match'], principalOf(request));
      return reply.code(201).send(releasePlanView(plan));
    },
  );
}
