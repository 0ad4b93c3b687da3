import { AppError } from '../http/problem.ts';
import type { SdkKeyGrant, SdkKeyVerifier } from '../http/sdk-keys.ts';

/** SDK keys known up front, for unit tests of services that accept them (integration tests use the real auth). */
export function fixedSdkKeys(keys: Record<string, string>): SdkKeyVerifier {
  return {
    async verify(key): Promise<SdkKeyGrant> {
      const environment = keys[key];
      if (!environment) throw new AppError('UNAUTHENTICATED', 'The API key is not valid or was revoked');
      return { keyId: `key-${environment}`, environment };
    },
  };
}
