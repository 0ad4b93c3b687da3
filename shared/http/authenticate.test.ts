import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier, tokenAlgorithm, type CurrentAccess } from './authenticate.ts';
import { AppError } from './problem.ts';

const userId = '00000000-0000-4000-8000-000000000007';

async function signer() {
  const { privateKey, publicKey } = await generateKeyPair(tokenAlgorithm);
  const keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k', alg: tokenAlgorithm }] });
  const sign = (lifetime: string, role = 'editor') =>
    new SignJWT({ email: 'someone@example.com', role })
      .setProtectedHeader({ alg: tokenAlgorithm, kid: 'k' })
      .setSubject(userId)
      .setIssuer('togglemaster')
      .setAudience('togglemaster')
      .setIssuedAt()
      .setExpirationTime(lifetime)
      .sign(privateKey);
  const verifier = (currentAccess?: CurrentAccess) =>
    createTokenVerifier({
      keys,
      issuer: 'togglemaster',
      audience: 'togglemaster',
      maxLifetimeSeconds: 900,
      ...(currentAccess ? { currentAccess } : {}),
    });
  return { sign, verifier };
}

const codeOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
  return 'accepted';
};

describe('token verifier', () => {
  it('refuses a token that lives longer than the deployment issues them for', async () => {
    const { sign, verifier } = await signer();
    expect(await codeOf(verifier().verify(await sign('15m')))).toBe('accepted');
    expect(await codeOf(verifier().verify(await sign('1h')))).toBe('UNAUTHENTICATED');
  });

  it('judges the caller by their current access: a disabled user is refused, a changed role applies', async () => {
    const { sign, verifier } = await signer();
    const token = await sign('10m', 'editor');
    expect(await codeOf(verifier(() => ({ role: 'editor', disabled: true })).verify(token))).toBe('UNAUTHENTICATED');
    expect((await verifier(() => ({ role: 'viewer', disabled: false })).verify(token)).role).toBe('viewer');
    expect((await verifier(async () => ({ role: 'admin', disabled: false })).verify(token)).role).toBe('admin');
    // Not known yet (made a moment ago): the token's own claims stand.
    expect((await verifier(() => undefined).verify(token)).role).toBe('editor');
  });
});
