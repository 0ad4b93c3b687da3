/**
 * A diagnostic for the provider benchmark: the OpenFeature server SDK as published is compiled by esbuild for ES2015
 * (its package.json's build scripts say `--target=es2015`), so every async function of its evaluation path is a
 * generator driven by a helper, and every object spread an `Object.defineProperties` call. To show what that costs,
 * this rebuilds **the very same sources** — the `sourcesContent` of the published ESM build's source map — with
 * Rolldown for ES2022 (native async/await and spread) in a temporary folder, and hands out a separate API instance
 * (`new OpenFeatureAPI()`: the published singleton, which the provider's own import uses, is left alone).
 *
 * The source map holds the files with code; the folders' index files (re-exports only, or types) are not in it and are
 * written here. Should a new SDK version need others, the rebuild fails and the benchmark says so and goes on without it.
 */
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { InMemoryProvider, OpenFeatureAPI } from '@openfeature/server-sdk';
import { repoRoot } from './processes.ts';

export interface ModernSdk {
  /** A fresh API instance of the rebuilt SDK. */
  api: OpenFeatureAPI;
  InMemoryProvider: typeof InMemoryProvider;
  version: string;
  /** Removes the temporary folder. */
  remove(): void;
}

const indexFiles: Record<string, string> = {
  'src/provider/index.ts': [
    "export * from './provider';",
    "export * from './no-op-provider';",
    "export * from './in-memory-provider/in-memory-provider';",
    "export * from './multi-provider/multi-provider';",
    "export * from './multi-provider/strategies';",
  ].join('\n'),
  'src/events/index.ts': "export * from './open-feature-event-emitter';\nexport * from './events';",
  'src/transaction-context/index.ts':
    "export * from './no-op-transaction-context-propagator';\nexport * from './async-local-storage-transaction-context-propagator';",
  'src/client/index.ts': "export * from './internal/open-feature-client';",
  'src/evaluation/index.ts': 'export {};',
  'src/hooks/index.ts': 'export {};',
  'src/tracking/index.ts': 'export {};',
};

export async function modernOpenFeatureSdk(): Promise<ModernSdk> {
  const sdkDir = path.join(repoRoot, 'node_modules', '@openfeature', 'server-sdk');
  const version = (JSON.parse(readFileSync(path.join(sdkDir, 'package.json'), 'utf8')) as { version: string }).version;
  const map = JSON.parse(readFileSync(path.join(sdkDir, 'dist', 'esm', 'index.js.map'), 'utf8')) as {
    sources: string[];
    sourcesContent?: (string | null)[];
  };
  if (!map.sourcesContent) throw new Error('the source map of @openfeature/server-sdk holds no sources');
  const dir = path.join(os.tmpdir(), `togglemaster-bench-openfeature-es2022-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    map.sources.forEach((source, i) => {
      // Sources are relative to dist/esm: '../../src/open-feature.ts'.
      const file = path.resolve(dir, 'dist', 'esm', source);
      if (!file.startsWith(dir + path.sep)) throw new Error(`unexpected source path ${source}`);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, map.sourcesContent![i] ?? '');
    });
    for (const [file, text] of Object.entries(indexFiles)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), `${text}\n`);
    }
    // @openfeature/core (a dependency, not rebuilt) resolves from the repository's node_modules, at build and at run time.
    symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    const { build } = await import('rolldown');
    const outFile = path.join(dir, 'out', 'index.mjs');
    await build({
      input: path.join(dir, 'src', 'index.ts'),
      cwd: dir,
      platform: 'node',
      external: (id) => id.startsWith('@openfeature/core') || id.startsWith('node:'),
      transform: { target: 'es2022' },
      output: { file: outFile, format: 'esm' },
      logLevel: 'silent',
      write: true,
    });
    const built = (await import(pathToFileURL(outFile).href)) as {
      OpenFeatureAPI: new () => OpenFeatureAPI;
      InMemoryProvider: typeof InMemoryProvider;
    };
    return { api: new built.OpenFeatureAPI(), InMemoryProvider: built.InMemoryProvider, version, remove };
  } catch (error) {
    remove();
    throw error;
  }
}
