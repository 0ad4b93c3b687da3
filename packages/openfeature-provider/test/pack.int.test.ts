import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluationService, serverKey, type EvaluationService } from './evaluation-service.ts';
import { demoSeed } from './flag-sets.ts';
import { demoDocument } from './fixtures.ts';

const run = promisify(execFile);
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = join(packageDir, '..', '..');
const sdkVersion = (
  JSON.parse(await readFile(join(repoRoot, 'node_modules', '@openfeature', 'server-sdk', 'package.json'), 'utf8')) as { version: string }
).version;

/** The consumer: plain JavaScript, as an application would write it, against the installed package. */
const consumer = `
import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import { ToggleMasterProvider } from '@togglemaster/openfeature-provider';

const out = {};
// Offline: from a bootstrap file, no service.
const offline = new ToggleMasterProvider({ bootstrap: process.env.BOOTSTRAP });
await OpenFeature.setProviderAndWait('offline', offline);
const local = OpenFeature.getClient('offline');
out.offline = {
  gate: await local.getBooleanDetails('gate', false),
  checkout: await local.getBooleanDetails('checkout', false, { targetingKey: 'u', country: 'BR' }),
  theme: await local.getObjectValue('theme', {}),
  mismatch: await local.getNumberDetails('gate', 3),
};

// Against the evaluation service: the configuration, the stream, the reports.
const provider = new ToggleMasterProvider({ baseUrl: process.env.BASE_URL, sdkKey: process.env.SDK_KEY, logger: { error() {}, warn() {}, info() {}, debug() {} } });
await OpenFeature.setProviderAndWait('service', provider);
const client = OpenFeature.getClient('service');
out.metadata = { name: provider.metadata.name, runsOn: provider.runsOn };
out.beta = await client.getBooleanDetails('new-checkout', false, { targetingKey: 'user-1' });
out.pageSize = await client.getNumberDetails('search-page-size', 0);
let evaluations = 0;
for (let i = 0; i < 1000; i++) {
  await client.getStringValue('banner-color', 'none', { targetingKey: 'user-' + i });
  evaluations += 1;
}
client.track('checkout-error', { targetingKey: 'user-1' }, { flagKey: 'new-checkout', value: 1 });
await OpenFeature.close();
out.evaluations = evaluations;
out.stats = provider.stats();
console.log(JSON.stringify(out));
`;

/** The same, in TypeScript with every check on (and no skipLibCheck): the published declarations stand on their own. */
const typedConsumer = `
import { OpenFeature } from '@openfeature/server-sdk';
import { ToggleMasterProvider, type ConfigurationDocument, type ProviderStats, type ToggleMasterProviderOptions } from '@togglemaster/openfeature-provider';

const document: ConfigurationDocument = { environment: 'e', flags: [], segments: [] };
const options: ToggleMasterProviderOptions = { baseUrl: 'http://localhost', sdkKey: 'k', bootstrap: document, events: { maxBuffered: 10 } };
const provider = new ToggleMasterProvider(options);
await OpenFeature.setProviderAndWait(provider);
const stats: ProviderStats = provider.stats();
const sent: number = stats.evaluations.sent + stats.track.dropped;
export { sent };
`;

describe('the published package', () => {
  let dir: string;
  let service: EvaluationService;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tm-provider-pack-'));
    service = await evaluationService(demoSeed());
  });
  afterAll(async () => {
    await service?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('packs (building first), installs with the OpenFeature SDK, and works from plain JavaScript', async () => {
    // npm pack runs prepack: the build.
    const packed = await run('npm', ['pack', '--pack-destination', dir, '--json'], { cwd: packageDir, maxBuffer: 16 * 1024 * 1024 });
    // The build's own lines come first; npm's JSON answer is the rest.
    const json = packed.stdout.slice(packed.stdout.search(/^\[/m));
    const [{ filename, files }] = JSON.parse(json) as [{ filename: string; files: { path: string }[] }];
    expect(files.map((f) => f.path).sort()).toEqual([
      'README.md',
      'dist/index.d.ts',
      'dist/index.js',
      'dist/index.js.map',
      'dist/provider.d.ts',
      'dist/types.d.ts',
      'package.json',
    ]);

    const app = join(dir, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    await run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '--loglevel=error',
        join(dir, filename),
        `@openfeature/server-sdk@${sdkVersion}`,
      ],
      { cwd: app, maxBuffer: 16 * 1024 * 1024 },
    );
    // What the package brought: its dependencies (the engine's), and not the services' (no fastify, no typebox).
    const installed = await readdir(join(app, 'node_modules'));
    expect(installed).toEqual(expect.arrayContaining(['murmurhash', 're2js', 'semver', '@togglemaster', '@openfeature']));
    expect(installed).not.toContain('typebox');
    expect(installed).not.toContain('fastify');

    await writeFile(join(app, 'flags.json'), JSON.stringify(demoDocument()));
    await writeFile(join(app, 'main.mjs'), consumer);
    const { stdout } = await run(process.execPath, ['main.mjs'], {
      cwd: app,
      env: { ...process.env, BOOTSTRAP: join(app, 'flags.json'), BASE_URL: service.baseUrl, SDK_KEY: serverKey },
      timeout: 60_000,
    });
    const out = JSON.parse(stdout) as Record<string, unknown> & {
      stats: { evaluations: Record<string, number>; track: Record<string, number> };
    };
    expect(out.offline).toMatchObject({
      gate: { value: true, variant: 'on', reason: 'STATIC' },
      checkout: { value: true, reason: 'TARGETING_MATCH', flagMetadata: { ruleId: 'rule-br' } },
      theme: { background: 'black', accents: ['orange'] },
      mismatch: { value: 3, reason: 'ERROR', errorCode: 'TYPE_MISMATCH' },
    });
    expect(out.metadata).toEqual({ name: 'ToggleMaster in-process', runsOn: 'server' });
    expect(out.beta).toMatchObject({ value: true, reason: 'TARGETING_MATCH' });
    expect(out.pageSize).toMatchObject({ value: 10, reason: 'DISABLED' });
    // Flushed on OpenFeature.close(): every evaluation, and the tracking event, reached the events queue.
    expect(out.stats.evaluations).toMatchObject({ recorded: 1002, sent: 1002, dropped: 0 });
    expect(out.stats.track).toMatchObject({ recorded: 1, sent: 1 });
    const totals = service.evaluationTotals();
    expect((totals.get('banner-color/blue/SPLIT/-') ?? 0) + (totals.get('banner-color/green/SPLIT/-') ?? 0)).toBe(1000);
    expect(service.queue.messages.flatMap((m) => m.metrics).map((m) => [m[0], m[3], m[5]])).toEqual([
      ['new-checkout', 'checkout-error', 1],
    ]);

    // The declarations: a strict TypeScript consumer compiles against them alone.
    await writeFile(join(app, 'main.ts'), typedConsumer);
    await mkdir(join(app, 'node_modules', '@types'), { recursive: true });
    await symlink(join(repoRoot, 'node_modules', '@types', 'node'), join(app, 'node_modules', '@types', 'node'));
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const typecheck = await run(
      process.execPath,
      [
        tsc,
        '--noEmit',
        '--strict',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
        '--types',
        'node',
        'main.ts',
      ],
      { cwd: app },
    ).catch((error: Error & { stdout?: string }) => ({ stdout: error.stdout || error.message }));
    expect(typecheck.stdout).toBe('');
  }, 180_000);
});
