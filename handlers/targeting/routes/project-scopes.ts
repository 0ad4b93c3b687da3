import type { FastifyRequest } from 'fastify';
import { Value } from 'typebox/value';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { SegmentKey } from '../../../shared/contracts/targeting-model.ts';
import { callerCredential, projectInQuery, type ProjectOf } from '../../../shared/http/authenticate.ts';
import { AppError } from '../../../shared/http/problem.ts';
import type { TargetingService } from '../targeting-service.ts';

/**
 * Where each targeting route finds the project it is about, for its guard. A rule belongs to its flag's project (the
 * flags service says which), a segment to its own. `undefined`: the thing named is not there (the route answers 404,
 * or an empty list).
 */
export interface TargetingScopes {
  /** `?project=`: a project's segments (list, create). */
  query: ProjectOf;
  /** The segment `:key`. */
  segment: ProjectOf;
  /** The rule `:id`: its flag's project. */
  rule: ProjectOf;
  /** `?flagKey=` of a rules list (absent: undefined; the rules of every flag are the organisation admin's). */
  flagInQuery: ProjectOf;
  /** Whose history: that of `?flagKey=` or `?segmentKey=` (purged or deleted ones too), else `?project=`. */
  history: ProjectOf;
  /** The `flagKey` of the body: read once the body is parsed (preValidation), before it is validated. */
  flagInBody: ProjectOf;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const fieldOf = (source: unknown, name: string): string | undefined =>
  source !== null && typeof source === 'object' ? text((source as Record<string, unknown>)[name]) : undefined;

export function targetingScopes(
  service: Pick<TargetingService, 'projectOfFlag' | 'projectOfRule' | 'projectOfSegment' | 'projectOfHistory'>,
): TargetingScopes {
  // These run before the route's schema checks the request: a malformed key or id names nothing (it is answered 400
  // then), and is never sent on to the flags service (which would refuse it).
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const flagKey = (value: string | undefined) => (value !== undefined && Value.Check(FlagKey, value) ? value : undefined);
  const segmentKey = (value: string | undefined) => (value !== undefined && Value.Check(SegmentKey, value) ? value : undefined);
  const ofFlag = (key: string | undefined, request: FastifyRequest) =>
    key === undefined ? undefined : service.projectOfFlag(key, callerCredential(request));

  return {
    query: projectInQuery,
    segment(request) {
      const key = segmentKey(fieldOf(request.params, 'key'));
      return key === undefined ? undefined : service.projectOfSegment(key);
    },
    rule(request) {
      const id = fieldOf(request.params, 'id');
      return id !== undefined && uuid.test(id) ? service.projectOfRule(id, callerCredential(request)) : undefined;
    },
    flagInQuery: (request) => ofFlag(flagKey(fieldOf(request.query, 'flagKey')), request),
    history(request) {
      const flag = fieldOf(request.query, 'flagKey');
      const segment = fieldOf(request.query, 'segmentKey');
      if (flag !== undefined) {
        const key = flagKey(flag);
        return key === undefined ? undefined : service.projectOfHistory({ flagKey: key }, callerCredential(request));
      }
      if (segment !== undefined) {
        const key = segmentKey(segment);
        return key === undefined ? undefined : service.projectOfHistory({ segmentKey: key }, callerCredential(request));
      }
      return projectInQuery(request);
    },
    flagInBody: (request) => ofFlag(flagKey(fieldOf(request.body, 'flagKey')), request),
  };
}

/** The project a route guarded by a resource's project was authorised in; none: the resource is not there (404). */
export function projectFound(request: FastifyRequest, notFound: string): string {
  if (request.project === undefined) throw new AppError('NOT_FOUND', notFound);
  return request.project;
}
