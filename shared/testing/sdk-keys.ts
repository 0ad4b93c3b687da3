import type { SdkKeyKind, SdkKeyRecord } from '../contracts/access-model.ts';
import { createSdkKeyVerifier, hashSdkKey, type SdkKeyVerifier } from '../http/sdk-keys.ts';

/**
 * The real verifier over SDK keys known up front (key → environment, a server key; or → its environment and
 * kind), for unit tests of services that accept them; integration tests use the real auth service and its keys.
 */
export function fixedSdkKeys(keys: FixedKeys): SdkKeyVerifier {
  const records = fixedSdkKeyRecords(keys);
  return createSdkKeyVerifier({ access: { loaded: true, sdkKey: (hash) => records.find((r) => r.hash === hash) } });
}

type FixedKeys = Record<string, string | { environment: string; kind: SdkKeyKind }>;

/** The records of those keys, as the access replica holds them (what an event stream's token names). */
export function fixedSdkKeyRecords(keys: FixedKeys): SdkKeyRecord[] {
  return Object.entries(keys).map(([key, grant]) => {
    const { environment, kind } = typeof grant === 'string' ? { environment: grant, kind: 'server' as const } : grant;
    return { id: `key-${environment}-${kind}`, hash: hashSdkKey(key), environment, kind, revoked: false };
  });
}
