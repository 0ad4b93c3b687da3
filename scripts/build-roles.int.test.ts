import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from '../handlers/testing/platform.ts';
import { freePort } from '../shared/testing/free-port.ts';
import { startRedisServer } from '../shared/testing/redis-server.ts';
import { until } from '../shared/testing/until.ts';
import { sourceMappedStack } from '../shared/logging/source-mapped-stack.ts';
import { buildRoles, compileCacheDir, warmCompileCache, type BuiltRoles } from './build-roles.ts';

const root = path.resolve(import.meta.dirname, '..');

/**
 * What the image runs: the bundle built as the image build makes it (here into a folder of the test's own, two
 * below the repository as dist/server is), started as the image starts it, answering its readiness probe and an
 * OFREP evaluation against the real platform.
 */
describe('the roles bundled as the image runs them', () => {
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  let platform: Platform;
  let built: BuiltRoles;
  let cacheEntries = 0;
  let child: ChildProcess | undefined;
  let output = '';
  const outDir = path.join(root, 'dist', `test-build-roles-${randomBytes(3).toString('hex')}`);

  beforeAll(async () => {
    redis = await startRedisServer();
    // Both finish before either failure is thrown, so that afterAll removes a build that was still being written.
    const [started, bundled] = await Promise.allSettled([
      startPlatform({ redisUrl: redis.url, evaluationInstances: 0 }),
      buildRoles(outDir),
    ]);
    if (started.status === 'fulfilled') platform = started.value;
    if (bundled.status === 'fulfilled') built = bundled.value;
    for (const outcome of [started, bundled]) if (outcome.status === 'rejected') throw outcome.reason;
    cacheEntries = (await warmCompileCache(outDir)).entries;
    const flag = await platform.call('POST', `${platform.urls.flags}/flags`, {
      key: 'bundled',
      name: 'Bundled',
      type: 'boolean',
      environments: { production: { enabled: true, defaultServe: { variant: 'on' } } },
    });
    expect(flag.status).toBe(201);
  }, 90_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child!.once('exit', resolve));
    }
    await platform?.stop();
    await redis?.stop();
    await rm(outDir, { recursive: true, force: true });
  });

  it('imports at run time only production dependencies (the image has no others), but for the all-in-one stand-ins', async () => {
    const { dependencies } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    // Development dependencies only the all-in-one process loads (embedded PostgreSQL, the AWS stand-ins), and an
    // optional native the pg driver tries.
    const allInOneOnly = new Set(['@electric-sql/pglite', '@electric-sql/pglite-socket', 'dynalite', 'local-aws-sqs', 'pg-native']);
    const imported = new Set<string>();
    for (const chunk of built.chunks)
      for (const name of chunk.externals)
        if (!name.startsWith('node:')) imported.add(name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0]!);
    expect(imported.size).toBeGreaterThan(3);
    const missing = [...imported].filter((name) => !(name in dependencies) && !allInOneOnly.has(name));
    expect(missing).toEqual([]);
  });

  it('maps our code to its TypeScript and leaves the dependencies unmapped', async () => {
    const maps = (await readdir(outDir)).filter((name) => name.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(10);
    const sources = new Set<string>();
    for (const map of maps)
      for (const source of (JSON.parse(await readFile(path.join(outDir, map), 'utf8')) as { sources: string[] }).sources)
        sources.add(source);
    expect([...sources].some((s) => s.endsWith('handlers/evaluation/evaluation-app.ts'))).toBe(true);
    expect([...sources].filter((s) => s.includes('node_modules'))).toEqual([]);
  });

  it('maps a logged stack frame in a chunk back to our TypeScript file and line (the image runs without --enable-source-maps)', async () => {
    const chunk = built.chunks.find((c) => c.fileName.startsWith('evaluation-app-'))!;
    const file = path.join(outDir, chunk.fileName);
    const map = new SourceMap(JSON.parse(await readFile(`${file}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
    // A generated place that the map gives to evaluation-app.ts: where the chunk defines buildEvaluationApp.
    const lines = (await readFile(file, 'utf8')).split('\n');
    const line = lines.findIndex((text) => text.includes('function buildEvaluationApp('));
    expect(line).toBeGreaterThan(0);
    const column = lines[line]!.indexOf('function buildEvaluationApp(');
    const entry = map.findEntry(line, column);
    expect('originalSource' in entry && entry.originalSource).toMatch(/handlers\/evaluation\/evaluation-app\.ts$/);
    const stack = `Error: boom\n    at buildEvaluationApp (${pathToFileURL(file).href}:${line + 1}:${column + 1})`;
    expect(sourceMappedStack(stack)).toMatch(
      new RegExp(`at buildEvaluationApp \\(${path.join(root, 'handlers', 'evaluation', 'evaluation-app.ts')}:\\d+:\\d+\\)$`),
    );
  });

  it('starts the evaluation role from the bundle with its compile cache: /readyz 200, then an OFREP evaluation', async () => {
    expect(cacheEntries).toBeGreaterThan(built.chunks.length);
    const port = await freePort();
    const config = platform.config;
    child = spawn(process.execPath, [built.entry, 'evaluation'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        NODE_COMPILE_CACHE: compileCacheDir(outDir),
        LOG_LEVEL: 'warn',
        HOST: '127.0.0.1',
        PORT: String(port),
        REDIS_URL: config.REDIS_URL!,
        REDIS_KEY_PREFIX: config.REDIS_KEY_PREFIX,
        AUTH_URL: config.AUTH_URL,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const url = `http://127.0.0.1:${port}`;
    await until(
      async () => {
        if (child!.exitCode !== null) throw new Error(`the bundle exited with ${child!.exitCode}:\n${output}`);
        return (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200;
      },
      { limitMs: 15_000, everyMs: 20 },
    );
    const answer = await fetch(`${url}/ofrep/v1/evaluate/flags/bundled`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': platform.sdkKey },
      body: JSON.stringify({ context: { targetingKey: 'user-1' } }),
    });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ key: 'bundled', value: true, variant: 'on' });
  }, 30_000);
});
