import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { callerCredential, principalOf } from '../../../shared/http/authenticate.ts';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { FlagSchema } from '../../../shared/contracts/flags-api.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { FlagRouteDeps } from './route-deps.ts';
import { IfMatchHeaders, sendFlag } from '../flag-schemas.ts';

export function copyFlagEnvironment(app: App, { service, guard, inProject }: FlagRouteDeps): void {
  app.post(
    '/flags/:key/environments/:environment/copy',
    {
      onRequest: guard('editor', inProject.flag),
      schema: {
        tags: ['flags'],
        summary: "Copy a flag's whole state from another environment into this one (promote staging → production)",
        description: [
          'Makes the flag in `{environment}` what it is in `from`: its state (on/off, off variant, default serve, prerequisites, as a PATCH of all four would) and its targeting rules (copies in the same order, replacing the ones there).',
          'The state is checked first (400 when it would not be valid here, 409 for an archived flag, 412 when `If-Match` is not the current version): nothing is asked or written then.',
          'Then the targeting service replaces the rules, with the caller’s credential (its refusal comes back as it gave it, its silence as 503: nothing written here), and last the state is written.',
          'Two audit entries record the copy, one per service: targeting’s history has the rules replaced (`deleted`) and copied (`created`), the flag’s history one `environment-updated` entry with `cause: {"copiedFrom": from}`.',
          'Only a change of the flag between the two writes can split them: that 409 says the rules were already copied, and the copy can be made again.',
        ].join(' '),
        security: bearerSecurity,
        params: Strict({ key: FlagKey, environment: Type.String({ minLength: 1, maxLength: 64 }) }),
        headers: IfMatchHeaders,
        body: Strict({ from: Type.String({ minLength: 1, maxLength: 64, description: 'The environment copied from' }) }),
        response: { 200: FlagSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { key, environment } = request.params;
      return sendFlag(
        reply,
        await service.copyEnvironment(
          key,
          environment,
          request.body.from,
          request.headers['if-match'],
          principalOf(request),
          callerCredential(request),
        ),
      );
    },
  );
}
