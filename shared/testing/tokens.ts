import { generateKeyPair, SignJWT, createLocalJWKSet, exportJWK } from 'jose';
import { createTokenVerifier, tokenAlgorithm, type TokenVerifier, type UserRole } from '../http/authenticate.ts';

/** A signing key of the tests' own, with a verifier for it, so a service's routes can be tested without auth running. */
export async function testTokens(): Promise<{ verifier: TokenVerifier; tokenFor: (role: UserRole, email?: string) => Promise<string> }> {
  const { privateKey, publicKey } = await generateKeyPair(tokenAlgorithm);
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test', alg: tokenAlgorithm };
  const verifier = createTokenVerifier({
    keys: createLocalJWKSet({ keys: [jwk] }),
    issuer: 'togglemaster',
    audience: 'togglemaster',
    maxLifetimeSeconds: 900,
  });
  return {
    verifier,
    tokenFor: (role, email = `${role}@example.com`) =>
      new SignJWT({ email, role })
        .setProtectedHeader({ alg: tokenAlgorithm, kid: 'test' })
        .setSubject(`00000000-0000-4000-8000-00000000000${['viewer', 'editor', 'admin'].indexOf(role)}`)
        .setIssuer('togglemaster')
        .setAudience('togglemaster')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey),
  };
}
