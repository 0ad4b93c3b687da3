import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A stack trace's frames in the bundle (dist/server/*.js) mapped to our TypeScript sources, each chunk's source map
 * read when a logged stack first needs it. The image does not run Node with --enable-source-maps: that reads, decodes
 * and measures the lines of every chunk as it loads it — about a ninth of a role's start — for the few stacks a
 * process ever logs. A frame that has no mapping (the sources in development, a dependency's code, which the bundle
 * leaves unmapped) stays as it is.
 */
const maps = new Map<string, SourceMap | null>();

function mapOf(file: string): SourceMap | null {
  let map = maps.get(file);
  if (map === undefined) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
    } catch {
      map = null; // no map beside it (not a chunk of ours), or unreadable: the frame stays as it is
    }
    maps.set(file, map);
  }
  return map;
}

/** `file:///…/x.js:12:34` or `/…/x.js:12:34`, as V8 writes a frame's place. */
const framePlace = /(file:\/\/\/[^\s()]+?\.js|\/[^\s():]+?\.js):(\d+):(\d+)/g;

export function sourceMappedStack(stack: string): string {
  // Started with --enable-source-maps (or NODE_OPTIONS): Node mapped the frames already.
  if (process.sourceMapsEnabled) return stack;
  return stack.replace(framePlace, (place, location: string, line: string, column: string) => {
    const file = location.startsWith('file:') ? fileURLToPath(location) : location;
    const map = mapOf(file);
    if (!map) return place;
    const entry = map.findEntry(Number(line) - 1, Number(column) - 1);
    // Only a mapping on the frame's own line: the nearest one before it may be another module's (a dependency's code
    // between two of ours has no mappings of its own).
    if (!('originalSource' in entry) || entry.generatedLine !== Number(line) - 1) return place;
    const source = entry.originalSource.startsWith('file:')
      ? fileURLToPath(entry.originalSource)
      : path.resolve(path.dirname(file), entry.originalSource);
    return `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  });
}
