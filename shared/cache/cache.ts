/**
 * The shared cache: Redis in production (every replica sees the same counters and entries), an in-process map
 * in the all-in-one process and in unit tests. Both implement exactly this interface.
 */
export interface Cache {
  /** Adds one to a counter that lives `windowSeconds` from its first increment; returns the new count. */
  increment(key: string, windowSeconds: number): Promise<number>;
  /** The counter's current value (0 when it does not exist or has expired). */
  count(key: string): Promise<number>;
  /** Seconds until the counter resets (0 when it does not exist). */
  ttl(key: string): Promise<number>;
  delete(key: string): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
