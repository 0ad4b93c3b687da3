import type { SdkKeyKind, SdkKeyRecord } from '../contracts/access-model.ts';
import { createSdkKeyVerifier, hashSdkKey, type SdkKeyVerifier } from '../http/sdk-keys.ts';

/**
 * The real verifier over SDK keys known up front (key → environment, a server key; or → its environment and
 * kind), for unit tests of services that accept them; integration tests use the real auth service and its keys.
 */
export function fixedSdkKeys(keys: Record<string, string | { environment: string; kind: SdkKeyKind }>): SdkKeyVerifier {
  const records = new Map<string, SdkKeyRecord>(
    Object.entries(keys).map(([key, grant]) => {
      const { environment, kind } = typeof grant === 'string' ? { environment: grant, kind: 'server' as const } : grant;
      return [hashSdkKey(key), { id: `key-${environment}-${kind}`, hash: hashSdkKey(key), environment, kind, revoked: false }];
    }),
  );
  return createSdkKeyVerifier({ access: { loaded: true, sdkKey: (hash) => records.get(hash) } });
}
