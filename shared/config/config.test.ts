import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ConfigError, knownVariables, loadConfig, requireFor } from './config.ts';

describe('configuration', () => {
  it('applies defaults and converts strings to the schema types', () => {
    const config = loadConfig({ ENVIRONMENTS: 'dev, prod ,qa', TRUST_PROXY: 'true', DATABASE_POOL_MAX: '3' });
    expect(config).toMatchObject({
      ENVIRONMENTS: ['dev', 'prod', 'qa'],
      TRUST_PROXY: true,
      DATABASE_POOL_MAX: 3,
      NODE_ENV: 'development',
      AUTH_URL: 'http://127.0.0.1:8001',
    });
  });

  it('names every bad variable at once, without echoing values', () => {
    try {
      loadConfig({ PORT: 'eighty', NODE_ENV: 'staging', ENVIRONMENTS: 'Prod Env', ADMIN_PASSWORD: 'hunter2', DATABASE_URL: 'not a url' });
      expect.fail('should have thrown');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const names = (error as ConfigError).problems.map((p) => p.split(':')[0]);
      expect(new Set(names)).toEqual(new Set(['PORT', 'NODE_ENV', 'ENVIRONMENTS', 'ADMIN_PASSWORD', 'DATABASE_URL']));
      expect((error as ConfigError).message).not.toContain('hunter2');
    }
  });

  it('requires a signing key and Redis in production, and a database for the services that own one', () => {
    const config = loadConfig({ NODE_ENV: 'production' });
    expect(() => requireFor(config, ['auth'])).toThrow(/AUTH_JWT_PRIVATE_KEY[\s\S]*REDIS_URL|DATABASE_URL/);
    try {
      requireFor(config, ['auth']);
    } catch (error) {
      expect((error as ConfigError).problems.map((p) => p.split(':')[0]).sort()).toEqual([
        'AUTH_JWT_PRIVATE_KEY',
        'DATABASE_URL',
        'REDIS_URL',
      ]);
    }
  });

  it('leaves self-registration off unless it is turned on, in production as elsewhere, and reads the allowed domains as a list', () => {
    expect(loadConfig({ NODE_ENV: 'production' })).toMatchObject({ SELF_REGISTRATION: 'off', SELF_REGISTRATION_DOMAINS: [] });
    expect(loadConfig({})).toMatchObject({ SELF_REGISTRATION: 'off', INVITATION_TTL_HOURS: 72 });
    expect(loadConfig({ SELF_REGISTRATION: 'on', SELF_REGISTRATION_DOMAINS: 'example.com, corp.example.org' })).toMatchObject({
      SELF_REGISTRATION: 'on',
      SELF_REGISTRATION_DOMAINS: ['example.com', 'corp.example.org'],
    });
    for (const env of [
      { SELF_REGISTRATION: 'true' },
      { SELF_REGISTRATION_DOMAINS: '@example.com' },
      { CONSOLE_URL: 'https://x.example.com/console/' },
    ])
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(ConfigError);
  });

  it('stops the process with a non-zero exit and a message naming the variable', () => {
    const result = spawnSync(process.execPath, ['handlers/main.ts', 'auth'], {
      env: { ...process.env, PORT: 'abc', LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('PORT');
  });

  it('refuses an unknown role with the list of roles', () => {
    const result = spawnSync(process.execPath, ['handlers/main.ts', 'payments'], {
      env: { ...process.env, LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/Usage: .*auth \| flags/);
  });

  it('is documented: every variable the schema knows has a row in the README', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const missing = knownVariables.filter((name) => !readme.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
