import { Type } from 'typebox';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import { ReleasePlanSchema, releasePlanView } from '../release-plans/release-plan.ts';
import type { FlagRouteDeps } from './route-deps.ts';

export function listReleasePlans(app: App, { releasePlans, guard, inProject }: FlagRouteDeps): void {
  app.get(
    '/flags/:key/release-plans',
    {
      onRequest: guard('viewer', inProject.flag),
      schema: {
        tags: ['release plans'],
        summary: "A flag's release plans, newest first: the running one (active or paused) and how the others ended",
        security: bearerSecurity,
        params: Strict({ key: FlagKey }),
        response: { 200: Type.Object({ items: Type.Array(ReleasePlanSchema) }), ...problemResponses },
      },
    },
    async (request) => ({ items: (await releasePlans.list(request.params.key)).map(releasePlanView) }),
  );
}
