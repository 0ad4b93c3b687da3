import { EventEmitter } from 'node:events';
import type { SdkKeyRecord, UserAccess } from '../contracts/access-model.ts';
import type { FlagDocument } from '../contracts/flag-model.ts';
import type { Rule, Segment } from '../contracts/targeting-model.ts';
import type { ConfigCache } from './config-cache.ts';
import type { PublishedChange } from './config-change.ts';

/** The configuration cache for one process (all-in-one, unit tests): the same contract as Redis, in memory. */
export function createMemoryConfigCache(): ConfigCache {
  const flags = new Map<string, FlagDocument>();
  const rules = new Map<string, Rule[]>();
  const segments = new Map<string, Segment>();
  const sdkKeys = new Map<string, SdkKeyRecord>();
  const users = new Map<string, UserAccess>();
  const seeded = new Set<string>();
  const bus = new EventEmitter();
  const copy = <T>(value: T): T => structuredClone(value);
  /** The entries with these ids that exist (all of them without ids), as copies. */
  const pick = <T>(entries: Map<string, T>, ids: string[] | undefined): T[] =>
    (ids ? ids.flatMap((id) => entries.get(id) ?? []) : [...entries.values()]).map(copy);
  return {
    async putFlag(flag) {
      flags.set(flag.key, copy(flag));
    },
    async removeFlag(key) {
      flags.delete(key);
    },
    async putRules(environment, flagKey, list) {
      rules.set(`${environment}/${flagKey}`, copy(list));
    },
    async putSegment(segment) {
      segments.set(segment.key, copy(segment));
    },
    async removeSegment(key) {
      segments.delete(key);
    },
    async putSdkKey(key) {
      sdkKeys.set(key.id, copy(key));
    },
    async removeSdkKey(id) {
      sdkKeys.delete(id);
    },
    async putUserAccess(user) {
      users.set(user.id, copy(user));
    },
    async removeUserAccess(id) {
      users.delete(id);
    },
    async markSeeded(owner) {
      seeded.add(owner);
    },
    async isSeeded(owner) {
      return seeded.has(owner);
    },
    async flagKeys() {
      return [...flags.keys()];
    },
    async getFlags(keys) {
      return keys.map((k) => {
        const flag = flags.get(k);
        return flag && copy(flag);
      });
    },
    async getRules(environment, flagKeys) {
      return flagKeys.map((k) => copy(rules.get(`${environment}/${k}`) ?? []));
    },
    async getSegments() {
      return [...segments.values()].map(copy);
    },
    async getSegment(key) {
      const segment = segments.get(key);
      return segment && copy(segment);
    },
    async getSdkKeys(ids) {
      return pick(sdkKeys, ids);
    },
    async getUsersAccess(ids) {
      return pick(users, ids);
    },
    async publish(change) {
      // Delivered on a later tick, as Redis would: a publisher never runs subscribers inside its own call.
      setImmediate(() => bus.emit('change', copy(change)));
    },
    async subscribe(onChange) {
      const listener = (change: PublishedChange) => onChange(change);
      bus.on('change', listener);
      return async () => {
        bus.off('change', listener);
      };
    },
    async ping() {},
    async close() {
      bus.removeAllListeners();
    },
  };
}
