import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { Strict, problemResponses } from '../../../shared/http/schemas.ts';
import type { AuthRouteDeps } from './route-deps.ts';
import { LoginAnswerSchema } from '../../../shared/contracts/auth-api.ts';

export function login(app: App, { service }: AuthRouteDeps): void {
  app.post(
    '/auth/login',
    {
      schema: {
        tags: ['users'],
        summary: 'Exchange email and password for a short-lived access token',
        // The password rule is not repeated here: an old account may predate it, and the answer must not hint.
        body: Strict({ email: Type.String({ minLength: 1, maxLength: 254 }), password: Type.String({ minLength: 1, maxLength: 256 }) }),
        response: { 200: LoginAnswerSchema, ...problemResponses },
      },
    },
    async (request) => service.login(request.body, request.ip),
  );
}
