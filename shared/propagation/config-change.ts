import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';

const Id = Type.String({ minLength: 1, maxLength: 512 });

/**
 * What changed, as the owner's outbox records it and every instance hears it. It names the entry, never its
 * content: the publisher reads the entry as it is when it delivers, so a late or repeated message cannot bring
 * back an old state.
 */
export const ConfigChangeSchema = Type.Union([
  Type.Object({ kind: Type.Literal('flag'), key: Id }),
  Type.Object({ kind: Type.Literal('rules'), environment: Id, flagKey: Id }),
  Type.Object({ kind: Type.Literal('segment'), key: Id }),
  Type.Object({ kind: Type.Literal('sdk-key'), id: Id }),
  Type.Object({ kind: Type.Literal('user'), id: Id }),
  /** An owner rewrote all of its entries (the cache had lost them): reload everything of that owner. */
  Type.Object({
    kind: Type.Literal('reseeded'),
    owner: Type.Union([Type.Literal('flags'), Type.Literal('targeting'), Type.Literal('auth')]),
  }),
]);
export type ConfigChange = Static<typeof ConfigChangeSchema>;
export type ConfigOwner = Extract<ConfigChange, { kind: 'reseeded' }>['owner'];
/** A change to one entry (everything but a reseed): what an outbox row carries. */
export type EntryChange = Exclude<ConfigChange, { kind: 'reseeded' }>;

/**
 * A change as published: `at` is when the change committed (its outbox row's time; the oldest one when several
 * changes to the same entry travel as one), so every instance can measure how long it took to reach it.
 */
export type PublishedChange = ConfigChange & { at?: string };

/** The entry a change names, as one string: changes with the same key coalesce (the outbox's `aggregate_key`). */
export function entryKeyOf(change: EntryChange): string {
  switch (change.kind) {
    case 'flag':
    case 'segment':
      return `${change.kind}:${change.key}`;
    case 'rules':
      return `rules:${change.environment}:${change.flagKey}`;
    case 'sdk-key':
    case 'user':
      return `${change.kind}:${change.id}`;
  }
}

const checkChange = Compile(ConfigChangeSchema);

/**
 * Reads an outbox payload or a published message. Rows written before the payload was typed (a flag row carried
 * `{ flagKey, version, action, environment }`) are read as the change they meant, so an upgrade loses none that
 * were still waiting. Anything else is not a change: the caller sets the row aside or ignores the message.
 */
export function parseConfigChange(value: unknown): ConfigChange {
  if (checkChange.Check(value)) return value;
  if (typeof value === 'object' && value !== null && !('kind' in value) && 'flagKey' in value && typeof value.flagKey === 'string') {
    return { kind: 'flag', key: value.flagKey };
  }
  throw new Error(`not a configuration change: ${JSON.stringify(value)?.slice(0, 200)}`);
}

/** Reads a published message: the change, and when it committed if the publisher said so. */
export function parsePublishedChange(value: unknown): PublishedChange {
  const change = parseConfigChange(value);
  const at = typeof value === 'object' && value !== null && 'at' in value ? value.at : undefined;
  return typeof at === 'string' ? { ...change, at } : change;
}
