import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';

// OWASP's Argon2id baseline (19 MiB, 2 passes, 1 lane): ~20 ms a hash on one core here.
const options = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, options);
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/**
 * A hash of a random password with the same parameters: checking an unknown user's password against it makes
 * "no such user" cost the same time as "wrong password".
 */
export function createDecoyHash(): Promise<string> {
  return hashPassword(randomBytes(32).toString('base64url'));
}
