import { describe, expect, it } from 'vitest';
import type { SdkKeyRecord } from '../../../shared/contracts/access-model.ts';
import { mintStreamToken, tokenLifetimeMs, verifyStreamToken } from './stream-tokens.ts';

const key: SdkKeyRecord = {
  id: '6f1d0c9e-0000-4000-8000-000000000001',
  hash: 'a'.repeat(64),
  environment: 'production',
  kind: 'client',
  revoked: false,
};
const keys = (record: SdkKeyRecord | undefined) => (id: string) => (record?.id === id ? record : undefined);

describe('event stream tokens', () => {
  it('opens a stream of its key for an hour, and the same token serves every answer of a ten-minute step', () => {
    const now = Date.now();
    const token = mintStreamToken(key, now);
    expect(verifyStreamToken(token, keys(key), now)).toBe(key);
    expect(mintStreamToken(key, now + 1_000)).toBe(token);
    expect(() => verifyStreamToken(token, keys(key), now + tokenLifetimeMs + 600_001)).toThrow(/not valid/);
  });

  it('is refused once its key is revoked or gone, when forged, or when signed with another key', () => {
    const now = Date.now();
    const token = mintStreamToken(key, now);
    expect(() => verifyStreamToken(token, keys({ ...key, revoked: true }), now)).toThrow(/not valid/);
    expect(() => verifyStreamToken(token, keys(undefined), now)).toThrow(/not valid/);
    const [id, expiry] = token.split('.');
    expect(() => verifyStreamToken(`${id}.${Number(expiry) + 600_000}.${token.split('.')[2]}`, keys(key), now)).toThrow(/not valid/);
    const other = mintStreamToken({ ...key, hash: 'b'.repeat(64) }, now);
    expect(() => verifyStreamToken(other, keys(key), now)).toThrow(/not valid/);
    for (const garbage of ['', '...', 'a.b.c', `${id}.${expiry}`, `${token}.extra`])
      expect(() => verifyStreamToken(garbage, keys(key), now)).toThrow(/not valid/);
  });
});
