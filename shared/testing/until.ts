/**
 * Waits until `condition` holds, checking every `everyMs`; throws past `limitMs`, so a test waiting on something
 * asynchronous (a relay, a subscription) is bounded in time. Resolves with how long it took.
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  options: { limitMs?: number; everyMs?: number } = {},
): Promise<number> {
  const { limitMs = 5_000, everyMs = 10 } = options;
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > limitMs) throw new Error(`condition not met within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return performance.now() - started;
}
