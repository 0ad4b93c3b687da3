/**
 * Builds the publishable package into dist/: the provider and ToggleMaster's engine bundled into one ES module
 * (with its source map) by Rolldown, and the type declarations of the public API by TypeScript. It fails when the
 * bundle would carry anything of the services beyond the engine and the contracts' types it reads, or import a
 * package other than the declared dependencies, or when a declaration would point outside the package.
 *
 *   node build.ts        (npm run build --workspace packages/openfeature-provider)
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';
import ts from 'typescript';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const dist = join(here, 'dist');
const manifest = JSON.parse(await readFile(join(here, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};
/** What the bundle may import: the declared dependencies, the OpenFeature SDK (a peer) and Node's own modules. */
const allowedImports = new Set([...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies), '@openfeature/core']);
const isAllowedImport = (id: string) => id.startsWith('node:') || allowedImports.has(id);
/** What the bundle may hold, besides its own sources: the engine, and the contracts' plain constants (types are erased). */
const bundledFrom = ['packages/openfeature-provider/src/', 'shared/engine/', 'shared/contracts/'];

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });

// ---- JavaScript --------------------------------------------------------------------------------------------------
const output = await build({
  input: join(here, 'src', 'index.ts'),
  cwd: root,
  platform: 'neutral',
  // Everything else is bundled, and must then be of the engine (checked below).
  external: isAllowedImport,
  output: { dir: dist, format: 'esm', entryFileNames: 'index.js', sourcemap: true },
  write: true,
});
const problems: string[] = [];
for (const chunk of output.output) {
  if (chunk.type !== 'chunk') continue;
  for (const id of chunk.imports)
    if (!isAllowedImport(id)) problems.push(`the bundle imports "${id}", which is not a dependency of the package`);
  for (const id of Object.keys(chunk.modules)) {
    if (id.startsWith('\0')) continue;
    const path = relative(root, id).split(sep).join('/');
    if (!bundledFrom.some((prefix) => path.startsWith(prefix)))
      problems.push(`the bundle holds ${path}: only the provider and the engine belong in it`);
  }
}

// ---- Type declarations ---------------------------------------------------------------------------------------------
const config = ts.getParsedCommandLineOfConfigFile(
  join(root, 'tsconfig.json'),
  {},
  { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
);
if (!config) throw new Error('tsconfig.json could not be read');
const program = ts.createProgram({
  rootNames: [join(here, 'src', 'index.ts')],
  options: {
    ...config.options,
    noEmit: false,
    declaration: true,
    emitDeclarationOnly: true,
    rootDir: root,
    outDir: join(here, '.declarations'),
  },
});
const src = join(here, '.declarations', 'packages', 'openfeature-provider', 'src');
const declarations = new Map<string, string>();
const emitted = program.emit(undefined, (fileName, text) => {
  // The engine's declarations are emitted too (it is in the program): only the package's own are kept.
  if (fileName.startsWith(src + sep)) declarations.set(relative(src, fileName), text);
});
const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics];
if (diagnostics.length > 0)
  problems.push(
    ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' }),
  );
// The declarations the public API reaches from index.d.ts (the internal modules' are not part of it).
const reached = new Set<string>();
const toVisit = ['index.d.ts'];
while (toVisit.length > 0) {
  const file = toVisit.pop()!;
  if (reached.has(file)) continue;
  reached.add(file);
  const text = declarations.get(file);
  if (text === undefined) {
    problems.push(`no declaration file ${file}`);
    continue;
  }
  for (const [, specifier] of text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+['"]([^'"]+)['"]/gm)) {
    if (specifier!.startsWith('./')) toVisit.push(specifier!.slice(2).replace(/\.(ts|js)$/, '.d.ts'));
    else if (specifier!.startsWith('../')) problems.push(`${file} imports ${specifier}: the public types must not need the services' code`);
    else if (!isAllowedImport(specifier!)) problems.push(`${file} imports "${specifier}", not a dependency`);
  }
  // Imported as the built files are named (TypeScript keeps the sources' `.ts` in declarations).
  await writeFile(join(dist, file), text.replace(/^((?:import|export)\b[^;]*?\bfrom\s+['"]\.\/[^'"]+)\.ts(['"])/gm, '$1.js$2'));
}

if (problems.length > 0) {
  await rm(dist, { recursive: true, force: true });
  console.error(`build failed:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log(`built ${relative(root, dist)}: index.js (+ map) and ${reached.size} declaration files`);
