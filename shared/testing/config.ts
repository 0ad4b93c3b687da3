import { loadConfig, type Config } from '../config/config.ts';

/** A configuration as the tests want it: defaults, quiet logs, and whatever the test overrides. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ...overrides });
}
