import type { Change } from '../../shared/audit/diff.ts';
import type { Rule, Segment } from '../../shared/contracts/targeting-model.ts';
import type { AuditedChange, WriteOutcome } from '../../shared/db/audited-write.ts';

export interface StoredRule extends Rule {
  createdAt: Date;
  updatedAt: Date;
}

/** Its `included` and `excluded` keys are answered in byte order (a list is a set: the order written is not kept). */
export interface StoredSegment extends Segment {
  project: string;
  /** Grows by one with every change; the ETag and If-Match of optimistic concurrency. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export type TargetingAuditAction = 'created' | 'updated' | 'deleted' | 'reordered';

export interface TargetingAuditEntry {
  id: number;
  entity: 'rule' | 'segment';
  /** The rule id or the segment key. */
  entityKey: string;
  /** For rules: the flag and environment they target. */
  flagKey: string | null;
  environment: string | null;
  /** The project it was written in: the segment's, or the rule's flag's (a history is read in it). */
  project: string;
  action: TargetingAuditAction;
  actor: { userId: string; email: string };
  at: Date;
  before: unknown;
  after: unknown;
  changes: Change[];
}

export type NewTargetingAuditEntry = Omit<TargetingAuditEntry, 'id'>;

/** Every write carries its audit entries and the change to publish, committed with it or not at all. */
export type TargetingWrite = AuditedChange<NewTargetingAuditEntry>;

export interface RuleFilter {
  flagKey?: string | undefined;
  environment?: string | undefined;
}

/** The keys a write adds to and removes from each of a segment's lists. */
export type SegmentKeyChanges = Record<'included' | 'excluded', { added: string[]; removed: string[] }>;

/** A segment without its key lists, with their sizes: what a change of a few keys reads (not 100,000 keys). */
export interface SegmentHead extends Omit<StoredSegment, 'included' | 'excluded'> {
  includedCount: number;
  excludedCount: number;
}

/** Keys to add to and remove from each list (PATCH …/keys): removals apply after additions. */
export type SegmentKeyEdits = Record<'included' | 'excluded', { add: readonly string[]; remove: readonly string[] }>;

/** What a change of a segment's keys did: the keys really added and removed, and the segment before and after. */
export interface SegmentKeysEdited {
  before: SegmentHead;
  after: SegmentHead;
  keys: SegmentKeyChanges;
}

/** The outcome of a change of keys; `too-many` names the lists that would pass the limit (nothing was written). */
export type SegmentKeysOutcome =
  | { outcome: 'ok' | 'unchanged'; segment: SegmentHead }
  | { outcome: 'too-many'; lists: { list: 'included' | 'excluded'; size: number }[] }
  | { outcome: 'stale' | 'not-found' };

/** What the targeting service keeps: PostgreSQL in production, maps in unit tests, built by one factory. */
export interface TargetingStore {
  listRules(filter: RuleFilter): Promise<StoredRule[]>;
  /**
   * The rules that use a segment, in their `segments` or in an `in_segment`/`not_in_segment` condition: what keeps it
   * from being deleted (asked of the database, not by reading every rule once per deleted segment).
   */
  rulesUsingSegment(key: string): Promise<StoredRule[]>;
  getRule(id: string): Promise<StoredRule | undefined>;
  /** Inserts or replaces rules (a create, an update, or a reorder that rewrites priorities) in one transaction. */
  saveRules(rules: StoredRule[], write: TargetingWrite): Promise<void>;
  deleteRule(id: string, write: TargetingWrite): Promise<boolean>;
  /** Replaces every rule of one flag in one environment by `rules` (a copy from another environment), in one transaction. */
  replaceRules(target: { flagKey: string; environment: string }, rules: StoredRule[], write: TargetingWrite): Promise<void>;

  /** Every segment, or those of one project, by key. */
  listSegments(filter?: { project?: string | undefined }): Promise<StoredSegment[]>;
  getSegment(key: string): Promise<StoredSegment | undefined>;
  /** The segments of these keys that exist (not every segment: there may be 10,000, some of 100,000 keys). */
  getSegments(keys: readonly string[]): Promise<StoredSegment[]>;
  /** False when the key is taken. */
  createSegment(segment: StoredSegment, write: TargetingWrite): Promise<boolean>;
  /**
   * Replaces the segment if it is still at `expectedVersion`; `keys` says what changed in its lists from that version
   * (PostgreSQL writes just those keys; `segment` holds the lists as they are now).
   */
  updateSegment(segment: StoredSegment, expectedVersion: number, write: TargetingWrite, keys: SegmentKeyChanges): Promise<WriteOutcome>;
  deleteSegment(key: string, expectedVersion: number, write: TargetingWrite): Promise<WriteOutcome>;
  /** A segment's version and project, read without its lists (what a change of keys checks first). */
  segmentVersion(key: string): Promise<{ version: number; project: string } | undefined>;
  /**
   * Adds and removes keys of a segment still at `expectedVersion`, in the database, without reading its lists: the
   * keys really added and removed are what `describe` records (history, change to publish). Nothing is written
   * when no key changes (`unchanged`, same version) or when a list would hold more than `maxKeys` (`too-many`).
   */
  editSegmentKeys(
    key: string,
    expectedVersion: number,
    edits: SegmentKeyEdits,
    options: { maxKeys: number; updatedAt: Date; describe: (edited: SegmentKeysEdited) => TargetingWrite },
  ): Promise<SegmentKeysOutcome>;

  /** Entries of one project, of a flag's rules or of a segment if named, newest first. */
  history(filter: {
    project: string;
    flagKey?: string | undefined;
    segmentKey?: string | undefined;
    limit: number;
    before?: number | undefined;
  }): Promise<{ items: TargetingAuditEntry[]; nextCursor: string | null }>;
  /** The project of the newest entry about a flag's rules or a segment (one purged or deleted too); undefined: none. */
  projectInHistory(about: { flagKey: string } | { segmentKey: string }): Promise<string | undefined>;
}
