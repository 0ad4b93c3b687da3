import { createHmac, randomBytes } from 'node:crypto';

/** The header a delivery's signature travels in, and its form: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const signatureHeader = 'ToggleMaster-Signature';

/** A new signing secret: 32 random bytes, readable at a glance for what it is. */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

/**
 * Stripe's scheme: HMAC-SHA256, keyed with the whole secret string, over `<timestamp>.<body>`. The timestamp is
 * signed with the body, so a receiver that refuses old timestamps (five minutes, say) cannot be replayed to later.
 * docs/webhooks.md gives the receiver's side of it.
 */
export function signatureOf(secret: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${mac}`;
}
