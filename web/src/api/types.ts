/**
 * The shapes the services answer with. The flag and targeting models are the platform's own contracts (type-only
 * imports: nothing of the server code reaches the bundle); the rest mirror the route schemas in handlers/*.
 */
import type { EnvironmentState, FlagDocument, FlagType, Prerequisite, Serve, Variant } from '../../../shared/contracts/flag-model.ts';
import type { Condition, Operator, Segment } from '../../../shared/contracts/targeting-model.ts';
import type { EvaluationResult, Reason } from '../../../shared/contracts/evaluation-model.ts';

export type { Condition, EnvironmentState, EvaluationResult, FlagType, Operator, Prerequisite, Reason, Serve, Variant };
export type Flag = FlagDocument;

export type Role = 'viewer' | 'editor' | 'admin';

export interface Me {
  sub: string;
  email: string;
  role: Role;
  name: string | null;
}

export interface LoginAnswer {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface User {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ApiKey {
  id: string;
  name: string;
  environment: string;
  kind: 'server';
  prefix: string;
  createdBy: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface CreatedApiKey extends ApiKey {
  key: string;
}

export interface Rule {
  id: string;
  flagKey: string;
  environment: string;
  priority: number;
  name: string;
  conditions: Condition[];
  segments: string[];
  serve: Serve;
  createdAt: string;
  updatedAt: string;
}

export interface StoredSegment extends Segment {
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface Change {
  path: string;
  before: unknown;
  after: unknown;
}

export interface Actor {
  userId: string;
  email: string;
}

export interface FlagAuditEntry {
  id: number;
  flagKey: string;
  action: 'created' | 'updated' | 'environment-updated' | 'deleted';
  environment: string | null;
  actor: Actor;
  at: string;
  version: number;
  changes: Change[];
}

export interface TargetingAuditEntry {
  id: number;
  entity: 'rule' | 'segment';
  entityKey: string;
  flagKey: string | null;
  environment: string | null;
  action: 'created' | 'updated' | 'deleted' | 'reordered';
  actor: Actor;
  at: string;
  changes: Change[];
  before: unknown;
  after: unknown;
}

export interface ConditionExplanation {
  attribute: string;
  operator: Operator;
  negate: boolean;
  held: boolean;
  actual?: unknown;
}

export interface RuleExplanation {
  ruleId: string;
  priority: number;
  matched: boolean;
  conditions: ConditionExplanation[];
  segments: { key: string; held: boolean }[];
}

export interface MatchAnswer {
  result: EvaluationResult;
  explanation: {
    prerequisites: { flagKey: string; variant: string; served?: string; met: boolean }[];
    rules: RuleExplanation[];
  };
}

export type Granularity = 'minute' | 'hour' | 'day';

export interface Stats {
  flagKey: string;
  environment: string;
  granularity: Granularity;
  from: string;
  to: string;
  buckets: { start: string; counts: Record<string, number>; total: number }[];
  totals: Record<string, number>;
  total: number;
}

export interface EvaluationEvent {
  flagKey: string;
  environment: string;
  variant: string | null;
  reason: string;
  ruleId: string | null;
  keyHash: string | null;
  at: string;
}
