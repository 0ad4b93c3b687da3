import { describe, expect, it } from 'vitest';
import { changedFlags, compileDocument, parseDocument } from '../src/configuration.ts';
import { EventStreamParser, type ServerSentEvent } from '../src/sse.ts';
import { streamUrlOf } from '../src/sync.ts';
import type { ConfigurationDocument } from '../src/types.ts';
import { demoDocument, flag, segment, withFlag } from './fixtures.ts';

describe('EventStreamParser', () => {
  const parse = (chunks: string[]) => {
    const events: ServerSentEvent[] = [];
    const retries: number[] = [];
    const parser = new EventStreamParser({ onEvent: (e) => events.push(e), onRetry: (ms) => retries.push(ms) });
    for (const chunk of chunks) parser.push(chunk);
    return { events, retries, lastEventId: parser.lastEventId };
  };

  it('reads OFREP change events, whatever the line endings and however the bytes are split', () => {
    const text =
      'retry: 1500\nid: 7\n\n: keep-alive\n\nid: 8\nevent: message\ndata: {"type":"refetchEvaluation",\ndata: "etag":"\\"8\\""}\n\n';
    const whole = parse([text]);
    expect(whole.retries).toEqual([1500]);
    expect(whole.events).toEqual([{ id: '8', event: 'message', data: '{"type":"refetchEvaluation",\n"etag":"\\"8\\""}' }]);
    expect(whole.lastEventId).toBe('8');
    const crlf = text.replaceAll('\n', '\r\n');
    for (let cut = 1; cut < crlf.length; cut += 7) expect(parse([crlf.slice(0, cut), crlf.slice(cut)]).events).toEqual(whole.events);
    expect(parse(text.split('')).events).toEqual(whole.events);
    expect(parse([text.replaceAll('\n', '\r')]).events).toEqual(whole.events);
  });

  it('dispatches nothing for a block without data, and keeps the last id across events', () => {
    const { events, lastEventId } = parse(['id: 1\n\nevent: other\n\ndata: x\n\n']);
    expect(events).toEqual([{ id: '1', event: 'message', data: 'x' }]);
    expect(lastEventId).toBe('1');
  });
});

describe('streamUrlOf', () => {
  it('joins requestUri to the base URL (its path kept), or to the origin given; takes a full url as it is', () => {
    const endpoint = { requestUri: '/ofrep/v1/event-stream?token=t' };
    expect(streamUrlOf('https://flags.example.com/', { type: 'sse', endpoint })).toBe(
      'https://flags.example.com/ofrep/v1/event-stream?token=t',
    );
    expect(streamUrlOf('https://example.com/flags', { type: 'sse', endpoint })).toBe(
      'https://example.com/flags/ofrep/v1/event-stream?token=t',
    );
    expect(streamUrlOf('https://a.example', { type: 'sse', endpoint: { ...endpoint, origin: 'https://sse.example' } })).toBe(
      'https://sse.example/ofrep/v1/event-stream?token=t',
    );
    expect(streamUrlOf('https://a.example', { type: 'sse', url: 'https://sse.example/s?c=1' })).toBe('https://sse.example/s?c=1');
    expect(streamUrlOf('https://a.example', { type: 'websocket', endpoint })).toBeUndefined();
  });
});

describe('changedFlags', () => {
  const base = demoDocument();
  const changed = (next: ConfigurationDocument) => changedFlags(compileDocument(base), compileDocument(next));

  it('names added, removed and edited flags, not a new version alone', () => {
    expect(changed(base)).toEqual([]);
    expect(changed({ ...base, flags: base.flags.map((f) => ({ ...f, version: f.version + 5 })) })).toEqual([]);
    expect(changed({ ...base, flags: [...base.flags, flag('fresh')] })).toEqual(['fresh']);
    expect(changed({ ...base, flags: base.flags.filter((f) => f.key !== 'banner') })).toEqual(['banner']);
    expect(changed(withFlag(base, { ...base.flags.find((f) => f.key === 'banner')!, salt: 'other' }))).toEqual(['banner']);
  });

  it('does not mind the order of rules, and names a flag whose rules changed', () => {
    const checkout = base.flags.find((f) => f.key === 'checkout')!;
    expect(changed(withFlag(base, { ...checkout, rules: [...checkout.rules].reverse() }))).toEqual([]);
    expect(changed(withFlag(base, { ...checkout, rules: checkout.rules.slice(1) }))).toEqual(['checkout']);
  });

  it('follows segments (also through other segments) and prerequisites (however deep)', () => {
    expect(changed({ ...base, segments: [segment('beta', { included: ['ana', 'bob'] })] })).toEqual(['checkout']);
    expect(changed({ ...base, segments: [...base.segments, segment('unused')] })).toEqual([]);
    // beta now reads staff: a change of staff changes beta, and so checkout.
    const nested: ConfigurationDocument = {
      ...base,
      segments: [
        segment('beta', { conditions: [{ attribute: 'targetingKey', operator: 'in_segment', values: ['staff'] }] }),
        segment('staff', { included: ['ana'] }),
      ],
    };
    expect(
      changedFlags(compileDocument(nested), compileDocument({ ...nested, segments: [nested.segments[0]!, segment('staff')] })),
    ).toEqual(['checkout']);
    // grandchild needs child, which needs gate.
    const deep = {
      ...base,
      flags: [...base.flags, flag('grandchild', { state: { prerequisites: [{ flagKey: 'child', variant: 'on' }] } })],
    };
    expect(changedFlags(compileDocument(deep), compileDocument(withFlag(deep, flag('gate'))))).toEqual(['child', 'gate', 'grandchild']);
  });
});

describe('parseDocument', () => {
  it('takes a configuration document and says what is wrong with anything else', () => {
    expect(parseDocument(demoDocument()).flags).toHaveLength(6);
    expect(() => parseDocument([])).toThrow(/not a JSON object/);
    expect(() => parseDocument({ flags: [], segments: [] })).toThrow(/environment/);
    expect(() => parseDocument({ environment: 'p', flags: {}, segments: [] })).toThrow(/arrays/);
    expect(() => parseDocument({ environment: 'p', flags: [{ key: 'a', type: 'boolean', salt: 's' }], segments: [] })).toThrow(
      /flag "a" needs/,
    );
    expect(() => parseDocument({ environment: 'p', flags: [], segments: [1] })).toThrow(/segments\[0\]/);
  });
});
