/**
 * Builds what the production image runs: handlers/main.ts (the role switch) bundled by Rolldown into one ES module,
 * dist/server/main.js, with a chunk per role and per code several roles share, all with source maps. A process loads
 * main.js and the chunks of the role it starts, nothing of the others: one file to read where the sources take about
 * 1,900 (resolved, read and, for TypeScript, type-stripped one by one), which is most of a role's cold start.
 * Development and the tests keep running the sources (`node handlers/main.ts <role>`); see docs/adr/0014-bundled-roles.md.
 *
 *   node scripts/build-roles.ts [outDir] [--compile-cache-uid=<uid>]   (default dist/server; postinstall, image build)
 *   NODE_COMPILE_CACHE=dist/server/.compile-cache node dist/server/main.js <role>
 *
 * Kept outside the bundle, loaded from node_modules at run time (so the image keeps its production node_modules):
 * native add-ons and what loads them, and the packages OpenTelemetry patches when tracing is on (an instrumentation
 * patches a module as Node loads it, which a module inlined in the bundle never is).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { OutputChunk, Plugin } from 'rolldown';

const root = path.resolve(import.meta.dirname, '..');

/** Packages the bundle imports at run time instead of holding. */
export const externalPackages = [
  // Native add-ons (prebuilt binaries found beside their package), and optional natives a package tries to load.
  'argon2',
  'pg-native',
  'msgpackr-extract',
  // Packages that read their own files beside their modules (`__dirname`): the API documentation's page and assets,
  // its package.json.
  '@fastify/swagger',
  '@fastify/swagger-ui',
  // Patched by the instrumentations when OTEL_EXPORTER_OTLP_ENDPOINT is set (shared/telemetry/telemetry.ts).
  'pg',
  'ioredis',
  '@aws-sdk/client-sqs',
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/lib-dynamodb',
  // The SDK and its instrumentations: loaded only when tracing is on; they hook the module loader themselves. The API
  // (@opentelemetry/api) is bundled: its copies share one global per major version (Symbol.for('opentelemetry.js.api.1')),
  // so the bundle's copy and the SDK's (the same locked version) see the same tracer provider and context manager.
  '@opentelemetry/sdk-node',
  '@opentelemetry/exporter-trace-otlp-http',
  '@opentelemetry/instrumentation',
  '@opentelemetry/instrumentation-http',
  '@opentelemetry/instrumentation-pg',
  '@opentelemetry/instrumentation-ioredis',
  '@opentelemetry/instrumentation-aws-sdk',
  // Development dependencies of the all-in-one process (embedded PostgreSQL, the SQS and DynamoDB stand-ins), which
  // read their own files (WebAssembly, data) beside their modules; no image role loads them.
  '@electric-sql/pglite',
  '@electric-sql/pglite-socket',
  'dynalite',
  'local-aws-sqs',
];

/**
 * prom-client's index also loads what no role uses — the Pushgateway (node:http, node:https, node:url) and the
 * cluster aggregator (node:cluster) — about 40 ms of every start. In the bundle `prom-client` is its modules that
 * the code imports (a name imported that is not here fails the build, it is not left undefined).
 */
const promClientModule = '\0prom-client (what the roles use)';
const promClientLean = [
  'Registry:registry',
  'Counter:counter',
  'Gauge:gauge',
  'Histogram:histogram',
  'Summary:summary',
  'collectDefaultMetrics:defaultMetrics',
]
  .map((entry) => {
    const [name, file] = entry.split(':');
    return `export { default as ${name} } from ${JSON.stringify(path.join(root, 'node_modules', 'prom-client', 'lib', `${file}.js`))};`;
  })
  .join('\n');

const leanPromClient: Plugin = {
  name: 'lean-prom-client',
  resolveId: (source) => (source === 'prom-client' ? promClientModule : null),
  load: (id) => (id === promClientModule ? promClientLean : null),
};

/**
 * Source maps for our code only: a dependency's modules are bundled without mappings (they were nine tenths of the
 * mappings). A logged stack's frames are mapped when it is logged (shared/logging/source-mapped-stack.ts); a
 * dependency's frame shows its place in the bundle instead (not minified: its function names are there).
 */
const dependenciesUnmapped: Plugin = {
  name: 'dependencies-unmapped',
  load: async (id) =>
    id.includes('/node_modules/') && !id.startsWith('\0') ? { code: await readFile(id, 'utf8'), map: { mappings: '' } } : null,
};

export function isExternal(id: string): boolean {
  if (id.startsWith('node:')) return true;
  return externalPackages.some((name) => id === name || id.startsWith(`${name}/`));
}

export interface BuiltRoles {
  outDir: string;
  entry: string;
  /** Each chunk, with the packages and built-ins it imports at run time (the externals it names). */
  chunks: { fileName: string; bytes: number; modules: number; externals: string[] }[];
  milliseconds: number;
}

/**
 * The output must stay two folders below the repository root: the console finds the built web app at
 * `../../web/dist/` from its module (handlers/console/console-app.ts), and dist/server/<chunk>.js keeps that true.
 */
export async function buildRoles(outDir = path.join(root, 'dist', 'server')): Promise<BuiltRoles> {
  const started = performance.now();
  const { build } = await import('rolldown');
  await rm(outDir, { recursive: true, force: true });
  const output = await build({
    input: { main: path.join(root, 'handlers', 'main.ts') },
    cwd: root,
    platform: 'node',
    external: isExternal,
    plugins: [leanPromClient, dependenciesUnmapped],
    output: {
      dir: outDir,
      format: 'esm',
      sourcemap: true,
      // Stack traces need the mappings only; the sources are in the repository (and would double what a process reads).
      sourcemapExcludeSources: true,
      entryFileNames: '[name].js',
      // V8 keeps every loaded module's source for lazy compilation: one non-ASCII character (a "—" in a comment) makes
      // a whole chunk a two-byte string, twice its size, and comments are dead weight there (-5 MB of RSS for the
      // evaluation service). Not minified: a stack trace stays readable even without its source map.
      charset: 'ascii',
      comments: false,
      chunkFileNames: '[name]-[hash].js',
    },
    write: true,
  });
  const chunks = output.output
    .filter((o): o is OutputChunk => o.type === 'chunk')
    .map((chunk) => ({
      fileName: chunk.fileName,
      bytes: chunk.code.length,
      modules: Object.keys(chunk.modules).length,
      externals: [...chunk.imports, ...chunk.dynamicImports].filter(isExternal),
    }));
  return { outDir, entry: path.join(outDir, 'main.js'), chunks, milliseconds: performance.now() - started };
}

/** The bundle's V8 compile cache, beside the chunks it was made from: what NODE_COMPILE_CACHE names where it runs. */
export function compileCacheDir(outDir = path.join(root, 'dist', 'server')): string {
  return path.join(outDir, '.compile-cache');
}

/** Externals worth caching: what the roles load (not the development-only stand-ins, not optional natives). */
const cachedExternals = [
  'argon2',
  '@fastify/swagger',
  '@fastify/swagger-ui',
  'pg',
  'ioredis',
  '@aws-sdk/client-sqs',
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/lib-dynamodb',
];

/**
 * Fills the compile cache for the bundle: a process that loads every chunk and every external a role loads, with
 * NODE_COMPILE_CACHE set, so that V8's compiled code of each module is on disk (about a quarter less CPU for loading
 * a role's modules). Node keys the cache by user id (a folder per uid) and each entry by the file's path and content:
 * it must be made by the user that will run the bundle (`uid`: the image's user, when the build runs as root), at the
 * path it will run from. A process that finds no entry for a module compiles it as without a cache.
 */
export async function warmCompileCache(outDir: string, options: { uid?: number } = {}): Promise<{ entries: number }> {
  const directory = compileCacheDir(outDir);
  await rm(directory, { recursive: true, force: true });
  await mkdir(directory, { recursive: true });
  if (options.uid !== undefined) await chown(directory, options.uid, options.uid);
  const chunks = (await readdir(outDir)).filter((name) => name.endsWith('.js') && name !== 'main.js');
  // Imported only, never started: a chunk's top level defines things and starts nothing (main.js does).
  const code = [
    ...chunks.map((name) => `await import(${JSON.stringify(pathToFileURL(path.join(outDir, name)).href)});`),
    ...cachedExternals.map((name) => `await import(${JSON.stringify(name)}).catch(() => {});`),
    `(await import('node:module')).flushCompileCache();`,
    'process.exit(0);',
  ].join('\n');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      cwd: root,
      env: { ...process.env, NODE_COMPILE_CACHE: directory },
      stdio: ['ignore', 'ignore', 'inherit'],
      ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }),
    });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`filling the compile cache exited with ${code}`))));
  });
  const folders = await readdir(directory);
  let entries = 0;
  for (const folder of folders) entries += (await readdir(path.join(directory, folder))).length;
  return { entries };
}

if (import.meta.main && !existsSync(path.join(root, 'node_modules', 'rolldown', 'package.json'))) {
  // A production install (no development dependencies) has no bundler: the image builds the bundle in a stage that has one.
  console.log('roles not bundled here (no rolldown); run `npm run build:roles` where it is needed');
} else if (import.meta.main) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'compile-cache-uid': { type: 'string' } } });
  const outDir = positionals[0] ? path.resolve(positionals[0]) : undefined;
  const built = await buildRoles(outDir);
  const kib = built.chunks.reduce((sum, c) => sum + c.bytes, 0) / 1024;
  const uid = values['compile-cache-uid'];
  const cache = await warmCompileCache(built.outDir, uid === undefined ? {} : { uid: Number(uid) });
  console.log(
    `roles bundled into ${path.relative(process.cwd(), built.entry) || built.entry}: ${built.chunks.length} chunks, ${Math.round(kib)} KiB, in ${Math.round(built.milliseconds)} ms; compile cache of ${cache.entries} modules in ${path.relative(process.cwd(), compileCacheDir(built.outDir))}`,
  );
}
