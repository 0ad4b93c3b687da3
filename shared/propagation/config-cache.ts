import type { SdkKeyRecord, UserAccess } from '../contracts/access-model.ts';
import type { FlagDocument } from '../contracts/flag-model.ts';
import type { Rule, Segment } from '../contracts/targeting-model.ts';
import type { ConfigOwner, PublishedChange } from './config-change.ts';

/**
 * The shared copy of the configuration that evaluation reads: Redis in production, a map in one process.
 * Only the owning services write it (each through its single outbox relay), so there is one writer per entry and
 * no stale write can win a race.
 */
export interface ConfigCache {
  putFlag(flag: FlagDocument): Promise<void>;
  removeFlag(key: string): Promise<void>;
  putRules(environment: string, flagKey: string, rules: Rule[]): Promise<void>;
  putSegment(segment: Segment): Promise<void>;
  removeSegment(key: string): Promise<void>;
  putSdkKey(key: SdkKeyRecord): Promise<void>;
  removeSdkKey(id: string): Promise<void>;
  putUserAccess(user: UserAccess): Promise<void>;
  removeUserAccess(id: string): Promise<void>;
  /** Marks an owner's entries complete; evaluation trusts the cache only while both owners are marked. */
  markSeeded(owner: ConfigOwner): Promise<void>;
  isSeeded(owner: ConfigOwner): Promise<boolean>;

  flagKeys(): Promise<string[]>;
  getFlags(keys: string[]): Promise<(FlagDocument | undefined)[]>;
  getRules(environment: string, flagKeys: string[]): Promise<Rule[][]>;
  getSegments(): Promise<Segment[]>;
  getSegment(key: string): Promise<Segment | undefined>;
  getSdkKeys(ids?: string[]): Promise<SdkKeyRecord[]>;
  getUsersAccess(ids?: string[]): Promise<UserAccess[]>;

  publish(change: PublishedChange): Promise<void>;
  /** `onResync` runs when the subscription came back after a break, when messages may have been missed. */
  subscribe(onChange: (change: PublishedChange) => void, onResync: () => void): Promise<() => Promise<void>>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
