import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importPKCS8,
  SignJWT,
  createLocalJWKSet,
  type JWK,
  type JWTVerifyGetKey,
  type CryptoKey,
} from 'jose';
import { createPublicKey } from 'node:crypto';
import { tokenAlgorithm, type Principal } from '../../shared/http/authenticate.ts';

export interface SigningKeys {
  kid: string;
  /** The public half as a JWK Set, published at /auth/.well-known/jwks.json. */
  jwks: { keys: JWK[] };
  /** Verifies against the local public key: auth checks its own tokens without fetching its own JWKS. */
  getKey: JWTVerifyGetKey;
  sign(principal: Principal, options: { issuer: string; audience: string; ttlSeconds: number }): Promise<string>;
}

/** Loads the configured ES256 key, or (outside production) makes one for this process's lifetime. */
export async function loadSigningKeys(pem: string | undefined): Promise<{ keys: SigningKeys; generated: boolean }> {
  let privateKey: CryptoKey;
  let publicJwk: JWK;
  if (pem) {
    privateKey = await importPKCS8(pem, tokenAlgorithm, { extractable: true });
    publicJwk = createPublicKey(pem).export({ format: 'jwk' });
  } else {
    const pair = await generateKeyPair(tokenAlgorithm, { extractable: true });
    privateKey = pair.privateKey;
    publicJwk = await exportJWK(pair.publicKey);
  }
  const kid = await calculateJwkThumbprint(publicJwk);
  const jwk: JWK = { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y, kid, alg: tokenAlgorithm, use: 'sig' };
  const jwks = { keys: [jwk] };
  return {
    generated: !pem,
    keys: {
      kid,
      jwks,
      getKey: createLocalJWKSet(jwks),
      sign: (principal, { issuer, audience, ttlSeconds }) =>
        new SignJWT({ email: principal.email, role: principal.role })
          .setProtectedHeader({ alg: tokenAlgorithm, kid, typ: 'JWT' })
          .setSubject(principal.userId)
          .setIssuer(issuer)
          .setAudience(audience)
          .setIssuedAt()
          .setExpirationTime(`${ttlSeconds}s`)
          .setJti(crypto.randomUUID())
          .sign(privateKey),
    },
  };
}
