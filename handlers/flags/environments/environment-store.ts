import type { Environment, EnvironmentSource } from './environment.ts';

/** The environments table: PostgreSQL in production, memory in unit tests. */
export interface EnvironmentStore extends EnvironmentSource {
  /** Fills an empty table with these, in order (a table that has any row is left alone). */
  seed(environments: readonly Environment[]): Promise<void>;
  /** False when the key is taken. */
  insert(environment: Environment): Promise<boolean>;
  /** Replaces it if still at `expectedVersion`. */
  update(environment: Environment, expectedVersion: number): Promise<'ok' | 'stale' | 'not-found'>;
  /** Sets every environment's position from this order (all keys, each once), in one transaction. */
  reorder(keys: readonly string[], at: Date): Promise<void>;
  delete(key: string): Promise<boolean>;
}
