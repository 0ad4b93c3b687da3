import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlagProjects } from './flag-projects.ts';

/** The flags service's two reads as analytics makes them, answered from a list, with what each request carried. */
const flags: { key: string; project?: string; archived: boolean }[] = [
  ...Array.from({ length: 450 }, (_, i) => ({ key: `a-${String(i).padStart(3, '0')}`, project: 'alpha', archived: i % 150 === 0 })),
  { key: 'old', archived: false },
];

describe('which project each flag is in, asked of the flags service', () => {
  let server: Server;
  let url: string;
  const seen: { path: string; authorization: string | undefined }[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      const at = new URL(request.url ?? '/', 'http://flags');
      seen.push({ path: `${at.pathname}${at.search}`, authorization: request.headers.authorization });
      const send = (status: number, body: unknown) =>
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const single = at.pathname.match(/^\/flags\/([^/]+)$/);
      if (single) {
        const flag = flags.find((f) => f.key === decodeURIComponent(single[1]!));
        // Published before projects: no project in the document.
        return flag ? send(200, flag) : send(404, { code: 'NOT_FOUND' });
      }
      const project = at.searchParams.get('project') ?? 'default';
      if (project !== 'alpha' && project !== 'default') return send(404, { code: 'NOT_FOUND' });
      const archived = at.searchParams.get('archived') === 'true';
      const matching = flags.filter((f) => (f.project ?? 'default') === project && f.archived === archived);
      const start = Number(at.searchParams.get('cursor') ?? 0);
      const limit = Number(at.searchParams.get('limit'));
      const end = start + limit;
      send(200, { items: matching.slice(start, end), nextCursor: end < matching.length ? String(end) : null });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('finds a flag’s project (the default project for a document without one), nothing for a flag not there', async () => {
    const projects = createFlagProjects(url);
    expect(await projects.projectOfFlag('a-001', { bearer: 't' })).toBe('alpha');
    expect(await projects.projectOfFlag('old', { bearer: 't' })).toBe('default');
    expect(await projects.projectOfFlag('nope', { bearer: 't' })).toBeUndefined();
  });

  it('lists a project’s flags, active and archived, page after page, with the caller’s credential', async () => {
    seen.length = 0;
    const keys = await createFlagProjects(url).flagKeysOf('alpha', { bearer: 'caller-token' });
    expect(keys?.size).toBe(450);
    expect(keys?.has('a-000')).toBe(true);
    expect(keys?.has('a-449')).toBe(true);
    expect(keys?.has('old')).toBe(false);
    expect(seen.every((s) => s.authorization === 'Bearer caller-token')).toBe(true);
    expect(seen.map((s) => s.path)).toContain('/flags?project=alpha&limit=200&archived=true');
    expect(await createFlagProjects(url).flagKeysOf('default', { bearer: 't' })).toEqual(new Set(['old']));
    expect(await createFlagProjects(url).flagKeysOf('nowhere', { bearer: 't' })).toBeUndefined();
  });
});
