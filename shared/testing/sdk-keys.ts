import type { SdkKeyRecord } from '../contracts/access-model.ts';
import { createSdkKeyVerifier, hashSdkKey, type SdkKeyVerifier } from '../http/sdk-keys.ts';

/**
 * The real verifier over SDK keys known up front (key → environment), for unit tests of services that accept
 * them; integration tests use the real auth service and its published keys.
 */
export function fixedSdkKeys(keys: Record<string, string>): SdkKeyVerifier {
  const records = new Map<string, SdkKeyRecord>(
    Object.entries(keys).map(([key, environment]) => [
      hashSdkKey(key),
      { id: `key-${environment}`, hash: hashSdkKey(key), environment, kind: 'server', revoked: false },
    ]),
  );
  return createSdkKeyVerifier({ access: { loaded: true, sdkKey: (hash) => records.get(hash) } });
}
