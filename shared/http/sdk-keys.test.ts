import { describe, expect, it } from 'vitest';
import type { SdkKeyRecord } from '../contracts/access-model.ts';
import { AppError } from './problem.ts';
import { createSdkKeyVerifier, hashSdkKey } from './sdk-keys.ts';

const record = (key: string, overrides: Partial<SdkKeyRecord> = {}): SdkKeyRecord => ({
  id: `id-${key}`,
  hash: hashSdkKey(key),
  environment: 'production',
  kind: 'server',
  revoked: false,
  ...overrides,
});

function replicaOf(records: SdkKeyRecord[], loaded = true) {
  const byHash = new Map(records.map((r) => [r.hash, r]));
  return { loaded, sdkKey: (hash: string) => byHash.get(hash), byHash };
}

const refusal = (verify: () => unknown): { code: string; headers?: Record<string, string> | undefined } => {
  try {
    verify();
  } catch (error) {
    if (error instanceof AppError) return { code: error.code, headers: error.headers };
    throw error;
  }
  throw new Error('the key was admitted');
};

describe('SDK key verifier', () => {
  it('admits a published key with its environment and project, from memory', () => {
    const verifier = createSdkKeyVerifier({ access: replicaOf([record('tm_live'), record('tm_pay', { project: 'payments' })]) });
    // A record published before projects names none: the default project's.
    expect(verifier.verify('tm_live')).toEqual({ keyId: 'id-tm_live', environment: 'production', kind: 'server', project: 'default' });
    expect(verifier.verify('tm_pay')).toMatchObject({ project: 'payments' });
  });

  it('refuses an unknown key and a revoked one with 401', () => {
    const verifier = createSdkKeyVerifier({ access: replicaOf([record('tm_revoked', { revoked: true })]) });
    expect(refusal(() => verifier.verify('tm_unknown'))).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(refusal(() => verifier.verify('tm_revoked'))).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('answers 503, not 401, before the keys were loaded once', () => {
    const verifier = createSdkKeyVerifier({ access: replicaOf([], false) });
    expect(refusal(() => verifier.verify('tm_anything'))).toMatchObject({ code: 'SERVICE_UNAVAILABLE', headers: { 'retry-after': '1' } });
  });

  it('sees a revocation at once, also on a connection that proved the key before', () => {
    const replica = replicaOf([record('tm_live')]);
    const verifier = createSdkKeyVerifier({ access: replica });
    const connection = {};
    expect(verifier.verify('tm_live', { connection }).environment).toBe('production');
    replica.byHash.set(hashSdkKey('tm_live'), record('tm_live', { revoked: true }));
    expect(refusal(() => verifier.verify('tm_live', { connection }))).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('answers 429 with Retry-After to an address that keeps sending bad keys, and only to it', () => {
    let clock = 1_000_000;
    const verifier = createSdkKeyVerifier({
      access: replicaOf([record('tm_live')]),
      limits: { maxBadKeys: 3, windowMs: 10_000 },
      now: () => clock,
    });
    const attacker = { address: '203.0.113.7' };
    for (let i = 0; i < 3; i++) expect(refusal(() => verifier.verify(`tm_guess_${i}`, attacker)).code).toBe('UNAUTHENTICATED');
    expect(refusal(() => verifier.verify('tm_guess_3', attacker))).toEqual({ code: 'RATE_LIMITED', headers: { 'retry-after': '10' } });
    // A valid key is still admitted from that address (behind a shared NAT), and other addresses are unaffected.
    expect(verifier.verify('tm_live', attacker).environment).toBe('production');
    expect(refusal(() => verifier.verify('tm_guess_4', { address: '198.51.100.1' })).code).toBe('UNAUTHENTICATED');
    clock += 4_000;
    expect(refusal(() => verifier.verify('tm_guess_5', attacker)).headers).toEqual({ 'retry-after': '6' });
    clock += 6_000;
    expect(refusal(() => verifier.verify('tm_guess_6', attacker)).code).toBe('UNAUTHENTICATED');
  });
});
