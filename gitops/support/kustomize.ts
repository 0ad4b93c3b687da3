import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/** The repository root (this file lives in gitops/support/). */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** What every rendered Kubernetes object has; the rest is checked against its model's schema. */
export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface Rendered {
  /** Directory relative to the repository root, e.g. `gitops/manifests/auth-service`. */
  dir: string;
  objects: RenderedObject[];
  /** kubectl's complaint when the build failed. */
  error?: string;
}

const kustomizationFiles = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/** Every directory under the given roots (relative to the repository) that holds a kustomization, sorted. */
export function findKustomizations(...roots: string[]): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    if (kustomizationFiles.some((file) => existsSync(join(dir, file)))) found.push(relative(repoRoot, dir));
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory() && entry.name !== 'node_modules' && !entry.name.startsWith('.')) walk(join(dir, entry.name));
    }
  };
  for (const root of roots) walk(join(repoRoot, root));
  return found.sort();
}

export function hasBinary(name: string): boolean {
  return spawnSync(name, ['--version'], { encoding: 'utf8' }).error === undefined;
}

const cache = new Map<string, Rendered>();

/** `kubectl kustomize <dir>` (offline), parsed into objects; the result is cached per directory. */
export function kustomize(dir: string): Rendered {
  const cached = cache.get(dir);
  if (cached) return cached;
  const run = spawnSync('kubectl', ['kustomize', join(repoRoot, dir)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  let rendered: Rendered;
  if (run.error) rendered = { dir, objects: [], error: `kubectl could not run: ${run.error.message}` };
  else if (run.status !== 0) rendered = { dir, objects: [], error: run.stderr.trim() || `kubectl exited with ${run.status}` };
  else rendered = { dir, objects: parseObjects(run.stdout, dir) };
  cache.set(dir, rendered);
  return rendered;
}

export function parseObjects(text: string, source: string): RenderedObject[] {
  const objects: RenderedObject[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw new Error(`${source}: ${document.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    if (!isRenderedObject(value)) throw new Error(`${source}: a document without apiVersion, kind and metadata.name`);
    objects.push(value);
  }
  return objects;
}

function isRenderedObject(value: unknown): value is RenderedObject {
  if (typeof value !== 'object' || value === null) return false;
  const { apiVersion, kind, metadata } = value as Record<string, unknown>;
  return (
    typeof apiVersion === 'string' &&
    typeof kind === 'string' &&
    typeof metadata === 'object' &&
    metadata !== null &&
    typeof (metadata as Record<string, unknown>).name === 'string'
  );
}

/** `KEY=value` lines of a Kustomize env file (comments and blank lines skipped), as Kustomize reads them. */
export function parseEnvFile(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const equals = line.indexOf('=');
    if (equals <= 0) throw new Error(`not KEY=value: ${line}`);
    values.set(line.slice(0, equals), line.slice(equals + 1));
  }
  return values;
}
