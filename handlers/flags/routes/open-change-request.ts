import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { callerCredential, principalOf } from '../../../shared/http/authenticate.ts';
import { EnvironmentPatch, FlagKey } from '../../../shared/contracts/flag-model.ts';
import { ChangeRequestSchema, EnvironmentKey, ReleasePlanStartSchema } from '../../../shared/contracts/flags-api.ts';
import { RuleSpec } from '../../../shared/contracts/targeting-model.ts';
import { Strict, Timestamp, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { changeRequestView } from '../change-requests/change-request.ts';
import type { FlagRouteDeps } from './route-deps.ts';

export function openChangeRequest(app: App, { changeRequests, guard, inProject }: FlagRouteDeps): void {
  app.post(
    '/flags/:key/environments/:environment/change-requests',
    {
      onRequest: guard('editor', inProject.flag),
      schema: {
        tags: ['change requests'],
        summary:
          'Propose a change to an environment — its state, a scheduled change, a release plan, or a flag’s rules there — for others to approve',
        description:
          'Exactly one of `change`, `schedule`, `releasePlan`, `rules`; all but rules are checked now as they will be applied (rules by targeting when applied). On a protected environment this is the only way to change it; it applies once `requiredApprovals` people other than its author approve.',
        security: bearerSecurity,
        params: Strict({ key: FlagKey, environment: EnvironmentKey }),
        body: Strict(
          {
            description: Type.Optional(Type.String({ maxLength: 2000, description: 'Why, for the reviewers' })),
            change: Type.Optional(EnvironmentPatch),
            schedule: Type.Optional(Strict({ runAt: Timestamp, change: EnvironmentPatch })),
            releasePlan: Type.Optional(ReleasePlanStartSchema),
            rules: Type.Optional(
              Type.Array(RuleSpec, {
                maxItems: 200,
                description: 'The flag’s targeting rules in the environment, whole and in order, as they are to be',
              }),
            ),
          },
          { minProperties: 1 },
        ),
        response: { 201: ChangeRequestSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { key, environment } = request.params;
      const opened = await changeRequests.open(key, environment, request.body, principalOf(request), callerCredential(request));
      return reply.code(201).header('location', `/flags/change-requests/${opened.id}`).send(changeRequestView(opened));
    },
  );
}
