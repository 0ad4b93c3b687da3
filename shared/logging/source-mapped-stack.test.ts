import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sourceMappedStack } from './source-mapped-stack.ts';

// A chunk of three lines whose map says: line 2 comes from line 3 of ../../handlers/a.ts; lines 1 and 3 have no
// mapping (a dependency's code, as the bundle leaves it).
const dir = mkdtempSync(path.join(os.tmpdir(), 'source-mapped-stack-'));
const chunk = path.join(dir, 'dist', 'server', 'a-1234.js');
mkdirSync(path.dirname(chunk), { recursive: true });
writeFileSync(chunk, 'dependency();\nours();\ndependency();\n//# sourceMappingURL=a-1234.js.map\n');
writeFileSync(`${chunk}.map`, JSON.stringify({ version: 3, sources: ['../../handlers/a.ts'], names: [], mappings: ';AAEA' }));

describe('sourceMappedStack', () => {
  it('maps a frame in a chunk of ours to the TypeScript line, as a file URL or a path', () => {
    const stack = `Error: boom\n    at ours (${pathToFileURL(chunk).href}:2:1)\n    at ${chunk}:2:1`;
    const source = path.join(dir, 'handlers', 'a.ts');
    expect(sourceMappedStack(stack)).toBe(`Error: boom\n    at ours (${source}:3:1)\n    at ${source}:3:1`);
  });

  it('leaves a frame without a mapping on its own line as it is (not the nearest mapping before it)', () => {
    const stack = `Error: boom\n    at dependency (${pathToFileURL(chunk).href}:3:1)`;
    expect(sourceMappedStack(stack)).toBe(stack);
  });

  it('leaves frames of files without a map as they are (the sources in development, node internals)', () => {
    const stack = `Error: boom\n    at f (file:///nowhere/handlers/b.js:10:5)\n    at g (node:internal/process/task_queues:95:5)`;
    expect(sourceMappedStack(stack)).toBe(stack);
  });
});
