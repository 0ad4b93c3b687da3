/**
 * unleash-server 8.x (the peer), from bench/peers/unleash, in its own process against the same PostgreSQL (its own
 * database), installed first when missing. Its admin API creates the same flags as ToggleMaster's.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { baseEnvironment, freePort, repoRoot, startNode, waitForHttp, type Child } from './processes.ts';
import { createDatabase, expectStatus, inParallel } from './togglemaster.ts';
import { flagKeys, singleFlag, unleashSegment, unleashStrategy } from './workload.ts';

export const peerDir = path.join(repoRoot, 'bench', 'peers', 'unleash');

/** `npm install --prefix bench/peers/unleash` when the peer (server or client) is not there yet. */
export function ensurePeerInstalled(): void {
  const installed = ['unleash-server', 'unleash-client'].every((name) =>
    existsSync(path.join(peerDir, 'node_modules', name, 'package.json')),
  );
  if (installed) return;
  console.log('Installing the peer: npm install --prefix bench/peers/unleash …');
  const npm = path.join(path.dirname(process.execPath), 'npm');
  execFileSync(existsSync(npm) ? npm : 'npm', ['install', '--prefix', peerDir, '--no-audit', '--no-fund'], {
    stdio: 'inherit',
    cwd: repoRoot,
  });
}

export function peerVersion(name: 'unleash-server' | 'unleash-client'): string {
  return (JSON.parse(readFileSync(path.join(peerDir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

/** unleash-client's own bucketing (MurmurHash3 of groupId:userId, 1–100): which users a 50% rollout lets in. */
export function unleashBucket(): (userId: string, groupId: string) => number {
  const peerRequire = createRequire(path.join(peerDir, 'package.json'));
  const util = peerRequire('unleash-client/lib/strategy/util') as { normalizedStrategyValue(id: string, groupId: string): number };
  return (userId, groupId) => util.normalizedStrategyValue(userId, groupId);
}

export interface UnleashPeer {
  child: Child;
  url: string;
  /** Frontend API tokens: `development` holds the 50 flags, `production` only the one-flag benchmark's flag. */
  frontendToken: { development: string; production: string };
  admin<T = unknown>(method: string, route: string, body?: unknown): Promise<{ status: number; body: T }>;
  readyMs: number;
}

export async function startUnleash(): Promise<UnleashPeer> {
  ensurePeerInstalled();
  const database = await createDatabase('unleash_bench');
  const port = await freePort();
  const secret = randomBytes(12).toString('hex');
  const adminToken = `*:*.${secret}-admin`;
  const frontendToken = { development: `default:development.${secret}-frontend`, production: `default:production.${secret}-frontend` };
  const spawned = performance.now();
  const child = startNode('unleash-server', path.join(peerDir, 'server.mjs'), [], {
    env: {
      ...baseEnvironment(),
      NODE_ENV: 'production',
      UNLEASH_BENCH_PORT: String(port),
      UNLEASH_BENCH_DATABASE: database,
      INIT_ADMIN_API_TOKENS: adminToken,
      INIT_FRONTEND_API_TOKENS: `${frontendToken.development},${frontendToken.production}`,
      SEND_TELEMETRY: 'false',
      CHECK_VERSION: 'false',
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/health`, { child, timeoutMs: 180_000, intervalMs: 100 });
  const readyMs = performance.now() - spawned;

  async function admin<T = unknown>(method: string, route: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${url}${route}`, {
      method,
      headers: { authorization: adminToken, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: response.status, body: parsed as T };
  }
  return { child, url, frontendToken, admin, readyMs };
}

/**
 * The same 50 flags as ToggleMaster's, through Unleash's admin API, in `development`; and the one-flag benchmark's
 * flag alone in `production` (the other 49 exist there but are off, as in any environment that does not use them).
 */
export async function createUnleashFlags(peer: UnleashPeer): Promise<void> {
  for (const name of ['country', 'appVersion', 'plan']) {
    expectStatus(`context field ${name}`, await peer.admin('POST', '/api/admin/context', { name, stickiness: false }), 201, 200, 409);
  }
  const segment = await peer.admin<{ id: number }>('POST', '/api/admin/segments', unleashSegment);
  expectStatus('segment', segment, 201);
  const feature = (key: string) => `/api/admin/projects/default/features/${key}`;
  await inParallel(flagKeys, 4, async (key, i) => {
    expectStatus(`feature ${key}`, await peer.admin('POST', '/api/admin/projects/default/features', { name: key, type: 'release' }), 201);
    const environments = key === singleFlag ? ['development', 'production'] : ['development'];
    for (const environment of environments) {
      expectStatus(
        `strategy of ${key}`,
        await peer.admin('POST', `${feature(key)}/environments/${environment}/strategies`, unleashStrategy(key, i, segment.body.id)),
        200,
        201,
      );
      expectStatus(`enabling ${key}`, await peer.admin('POST', `${feature(key)}/environments/${environment}/on`), 200, 201);
    }
  });
}
