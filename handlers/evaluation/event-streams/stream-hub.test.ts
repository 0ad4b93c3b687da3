import { describe, expect, it } from 'vitest';
import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import type { SdkKeyRecord } from '../../../shared/contracts/access-model.ts';
import { createLogger } from '../../../shared/logging/logger.ts';
import { createConfigurationVersions } from '../configuration-versions.ts';
import { createStreamHub } from './stream-hub.ts';

const logger = createLogger('silent', 'test');

/** A response whose client reads everything (`reads`), or nothing: its bytes pile up as a socket's would. */
function response(reads: boolean) {
  const written: string[] = [];
  const stream = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _encoding, done) {
      written.push(chunk.toString());
      if (reads) done();
    },
  });
  // The hub uses what ServerResponse has of Writable (write, writableLength, end, destroy, 'close').
  return { res: stream as unknown as ServerResponse, written, stream };
}

function hubWith(keys: Map<string, SdkKeyRecord>) {
  const versions = createConfigurationVersions();
  let keyListener: (id: string) => void = () => {};
  const hub = createStreamHub({
    versions,
    access: {
      sdkKeyById: (id) => keys.get(id),
      onSdkKeyChange: (listener) => {
        keyListener = listener;
        return () => {};
      },
    },
    logger,
    metrics: new Registry(),
    maxStreams: 2,
    keepAliveMs: 60_000,
    maxBufferedBytes: 4_096,
  });
  return { hub, versions, keyChanged: (id: string) => keyListener(id) };
}

const key = (id: string, revoked = false): SdkKeyRecord => ({ id, hash: 'h', environment: 'production', kind: 'client', revoked });

describe('event stream hub', () => {
  it("writes an environment's change to its streams only, as an OFREP message event", () => {
    const { hub, versions } = hubWith(new Map());
    const production = response(true);
    const staging = response(true);
    hub.open(production.res, { environment: 'production', keyId: 'k1', project: 'default' }, undefined);
    hub.open(staging.res, { environment: 'staging', keyId: 'k2', project: 'default' }, undefined);
    versions.applied({ id: '1700000000000-abc', at: 1_700_000_000_000 }, ['production']);
    expect(production.written.at(-1)).toBe(
      'id: 1700000000000-abc\nevent: message\ndata: {"type":"refetchEvaluation","etag":"\\"1700000000000-abc\\"","lastModified":1700000000}\n\n',
    );
    expect(staging.written.join('')).not.toContain('refetchEvaluation');
    hub.close();
  });

  it("writes a project's change to that project's streams only; a change of every project's (a segment) to all", () => {
    const { hub, versions } = hubWith(new Map());
    const alpha = response(true);
    const beta = response(true);
    hub.open(alpha.res, { environment: 'production', keyId: 'k1', project: 'alpha' }, undefined);
    hub.open(beta.res, { environment: 'production', keyId: 'k2', project: 'beta' }, undefined);
    versions.applied({ id: '1700000000000-b01', at: 1_700_000_000_000 }, ['production'], 'beta');
    expect(beta.written.join('')).toContain('1700000000000-b01');
    expect(alpha.written.join('')).not.toContain('refetchEvaluation');
    // Each project's callers are at their own version: alpha's is not the one of beta's change.
    expect(versions.current('production', 'beta').id).toBe('1700000000000-b01');
    expect(versions.current('production', 'alpha').id).not.toBe('1700000000000-b01');
    versions.applied({ id: '1700000000001-5e9', at: 1_700_000_000_001 }, ['production']);
    expect(alpha.written.join('')).toContain('1700000000001-5e9');
    expect(beta.written.join('')).toContain('1700000000001-5e9');
    expect(versions.current('production', 'alpha').id).toBe('1700000000001-5e9');
    expect(versions.current('production', 'beta').id).toBe('1700000000001-5e9');
    // A stream of alpha coming back with alpha's version missed nothing, whatever beta's changes since.
    versions.applied({ id: '1700000000002-b02', at: 1_700_000_000_002 }, ['production'], 'beta');
    const back = response(true);
    hub.open(back.res, { environment: 'production', keyId: 'k1', project: 'alpha' }, '1700000000001-5e9');
    expect(back.written.join('')).not.toContain('refetchEvaluation');
    hub.close();
  });

  it('drops a client that does not read instead of buffering for it without bound, and refuses streams past its limit', () => {
    const { hub, versions } = hubWith(new Map());
    const stalled = response(false);
    hub.open(stalled.res, { environment: 'production', keyId: 'k1', project: 'default' }, undefined);
    expect(hub.size).toBe(1);
    for (let i = 0; i < 100 && hub.size > 0; i++) versions.applied({ id: `${Date.now()}-${i}`, at: Date.now() }, ['production']);
    expect(hub.size).toBe(0);
    expect(stalled.stream.destroyed).toBe(true);
    hub.open(response(true).res, { environment: 'production', keyId: 'k1', project: 'default' }, undefined);
    hub.open(response(true).res, { environment: 'production', keyId: 'k1', project: 'default' }, undefined);
    expect(hub.full).toBe(true);
    hub.close();
  });

  it("closes a revoked key's streams, and leaves the others open", () => {
    const keys = new Map([
      ['k1', key('k1')],
      ['k2', key('k2')],
    ]);
    const { hub, keyChanged } = hubWith(keys);
    const revoked = response(true);
    const other = response(true);
    hub.open(revoked.res, { environment: 'production', keyId: 'k1', project: 'default' }, undefined);
    hub.open(other.res, { environment: 'production', keyId: 'k2', project: 'default' }, undefined);
    keyChanged('k1'); // a change that did not revoke it
    expect(hub.size).toBe(2);
    keys.set('k1', key('k1', true));
    keyChanged('k1');
    expect(hub.size).toBe(1);
    expect(revoked.stream.destroyed).toBe(true);
    expect(other.stream.destroyed).toBe(false);
    hub.close();
  });

  it('ends every stream at shutdown, each having been told when to reconnect', () => {
    const { hub } = hubWith(new Map());
    const open = response(true);
    hub.open(open.res, { environment: 'production', keyId: 'k1', project: 'default' }, undefined);
    expect(open.written[0]).toMatch(/^retry: \d+\nid: \S+\n\n$/);
    hub.close();
    expect(open.stream.writableEnded).toBe(true);
    expect(hub.size).toBe(0);
  });
});

describe('configuration versions', () => {
  it('answers at once for a change it applied, waits for one on its way, and does not wait for an old one', async () => {
    const versions = createConfigurationVersions();
    const recent = `${Date.now()}-abc`;
    versions.applied({ id: recent, at: Date.now() }, []);
    expect(await versions.caughtUpWith(recent, 10)).toBe(true);
    const coming = `${Date.now()}-def`;
    const waiting = versions.caughtUpWith(coming, 1_000);
    versions.applied({ id: coming, at: Date.now() }, []);
    expect(await waiting).toBe(true);
    expect(await versions.caughtUpWith(`${Date.now()}-never`, 20)).toBe(false);
    expect(await versions.caughtUpWith(`${Date.now() - 60_000}-old`, 1_000)).toBe(true);
    expect(await versions.caughtUpWith('not-a-version', 1_000)).toBe(true);
    // Another instance's reload: nothing here will ever apply it, so nothing waits for it.
    expect(await versions.caughtUpWith(`${Date.now()}-local-0a1b2c3d4e`, 1_000)).toBe(true);
  });
});
