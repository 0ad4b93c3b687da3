import { generateKeyPair, SignJWT, createLocalJWKSet, exportJWK } from 'jose';
import { createTokenVerifier, tokenAlgorithm, type TokenVerifier, type UserRole } from '../http/authenticate.ts';

/** A signing key of the tests' own, with a verifier for it, so a service's routes can be tested without auth running. */
export async function testTokens(): Promise<{
  verifier: TokenVerifier;
  /**
   * A token for a user of that role; `userId` tells two users of one role apart (by default one id per role);
   * `projects`: the roles that user is granted by project membership (what the access replica would say).
   */
  tokenFor: (role: UserRole, email?: string, userId?: string, projects?: Record<string, UserRole>) => Promise<string>;
}> {
  const { privateKey, publicKey } = await generateKeyPair(tokenAlgorithm);
  const standings = new Map<string, { role: UserRole; disabled: boolean; projects: Record<string, UserRole> }>();
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test', alg: tokenAlgorithm };
  const verifier = createTokenVerifier({
    keys: createLocalJWKSet({ keys: [jwk] }),
    issuer: 'togglemaster',
    audience: 'togglemaster',
    maxLifetimeSeconds: 900,
    currentAccess: (userId) => standings.get(userId),
  });
  return {
    verifier,
    tokenFor: (
      role,
      email = `${role}@example.com`,
      userId = `00000000-0000-4000-8000-00000000000${['viewer', 'editor', 'admin'].indexOf(role)}`,
      projects,
    ) => {
      if (projects) standings.set(userId, { role, disabled: false, projects });
      return new SignJWT({ email, role })
        .setProtectedHeader({ alg: tokenAlgorithm, kid: 'test' })
        .setSubject(userId)
        .setIssuer('togglemaster')
        .setAudience('togglemaster')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
    },
  };
}
