import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SdkKeyRecord } from '../../../shared/contracts/access-model.ts';
import { AppError } from '../../../shared/http/problem.ts';

/**
 * The token in an event stream's URL. `EventSource` cannot send a header, so the URL itself must authorize the
 * stream: it names the SDK key (by id) and an expiry, signed with the key's own SHA-256 — which every evaluation
 * instance holds in its access replica and nobody outside has — so any instance can check it, it needs no secret
 * of its own, and it dies with the key (a revoked or deleted key's tokens are refused, its open streams closed).
 * It opens only that key's environment, and only for `tokenLifetimeMs` (the stream itself may outlive it).
 */
export const tokenLifetimeMs = 3600_000;
/** Expiries are rounded up to this step, so the bulk answer (and its ETag) changes once per step, not per request. */
const expiryStepMs = 600_000;

const signature = (key: SdkKeyRecord, expiry: number) =>
  createHmac('sha256', key.hash).update(`ofrep-event-stream.${key.id}.${expiry}`).digest('base64url').slice(0, 32);

/** The token each key has now: it changes once per expiry step, so every bulk answer need not sign again. */
const minted = new Map<string, { hash: string; expiry: number; token: string }>();

export function mintStreamToken(key: SdkKeyRecord, now = Date.now()): string {
  const expiry = Math.ceil((now + tokenLifetimeMs) / expiryStepMs) * expiryStepMs;
  const last = minted.get(key.id);
  if (last?.expiry === expiry && last.hash === key.hash) return last.token;
  const token = `${key.id}.${expiry}.${signature(key, expiry)}`;
  // Bounded: a deployment has few keys, and one that churns through many only re-signs.
  if (minted.size >= 10_000) minted.clear();
  minted.set(key.id, { hash: key.hash, expiry, token });
  return token;
}

const refused = () =>
  new AppError(
    'UNAUTHENTICATED',
    'This event stream URL is not valid (expired, or its key was revoked): take a new one from the bulk evaluation',
  );

/** The key a token opens a stream for; 401 when it is malformed, forged, expired, or its key is revoked or unknown. */
export function verifyStreamToken(token: string, keyById: (id: string) => SdkKeyRecord | undefined, now = Date.now()): SdkKeyRecord {
  const [id, expiryText, given, ...rest] = token.split('.');
  const expiry = Number(expiryText);
  if (!id || !given || rest.length > 0 || !Number.isSafeInteger(expiry) || expiry <= now) throw refused();
  const key = keyById(id);
  if (!key || key.revoked) throw refused();
  const expected = Buffer.from(signature(key, expiry));
  const actual = Buffer.from(given);
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) throw refused();
  return key;
}
