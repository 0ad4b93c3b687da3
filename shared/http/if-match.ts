import { AppError } from './problem.ts';

/**
 * Optimistic concurrency: a write sent with `If-Match` applies only to the version it was made against. `*` (or
 * no header) matches any version; weak tags are compared by their value.
 */
export function assertIfMatch(version: number, ifMatch: string | undefined, what: string): void {
  if (ifMatch === undefined || ifMatch.trim() === '*') return;
  const versions = ifMatch.split(',').map((tag) => tag.trim().replace(/^W\//, '').replaceAll('"', ''));
  if (!versions.includes(String(version))) {
    throw new AppError(
      'PRECONDITION_FAILED',
      `The ${what} is at version ${version}, not ${ifMatch}; reload it and apply your change again`,
    );
  }
}
