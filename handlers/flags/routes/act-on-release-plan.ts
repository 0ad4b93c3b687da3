import { Type } from 'typebox';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import { principalOf } from '../../../shared/http/authenticate.ts';
import { ReleasePlanSchema, releasePlanView } from '../release-plans/release-plan.ts';
import type { FlagRouteDeps } from './route-deps.ts';

const actions = ['pause', 'resume', 'approve', 'rollback'] as const;

export function actOnReleasePlan(app: App, { releasePlans, guard, inProject }: FlagRouteDeps): void {
  app.post(
    '/flags/:key/release-plans/:id/:action',
    {
      onRequest: guard('editor', inProject.flag),
      schema: {
        tags: ['release plans'],
        summary:
          'pause (the current milestone keeps its time left), resume, approve (the milestone waiting for it), or rollback (serve what was served before the plan, and end it)',
        security: bearerSecurity,
        params: Strict({ key: FlagKey, id: Uuid, action: Type.Enum([...actions]) }),
        response: { 200: ReleasePlanSchema, ...problemResponses },
      },
    },
    async (request) => {
      const { key, id, action } = request.params;
      return releasePlanView(await releasePlans[action](key, id, principalOf(request)));
    },
  );
}
