import { describe, expect, it } from 'vitest';
import type { ChangeRequest, Environment } from '../api/types.ts';
import {
  actionsFor,
  appliedSince,
  approvalCount,
  describeRequest,
  draftNote,
  isChangeRequestRequired,
  isWaiting,
  kindLabel,
  missingApprovals,
  movedSince,
  openedMessage,
  proposalNote,
  reviewNote,
  submissionFor,
  waitingBadge,
  waitingOf,
  withDescription,
  withRequest,
} from './change-requests.ts';

const ann = { userId: 'u-ann', email: 'ann@example.com' };
const bob = { userId: 'u-bob', email: 'bob@example.com' };

function request(overrides: Partial<ChangeRequest> = {}): ChangeRequest {
  return {
    id: 'cr-1',
    flagKey: 'checkout',
    project: 'default',
    environment: 'production',
    kind: 'change',
    description: null,
    change: { enabled: true },
    schedule: null,
    releasePlan: null,
    rules: null,
    plannedVersion: 3,
    diff: [{ path: '/enabled', before: false, after: true }],
    status: 'open',
    requiredApprovals: 2,
    approvals: [],
    rejection: null,
    comments: [],
    author: ann,
    appliedBy: null,
    outcome: null,
    result: {},
    createdAt: '2025-03-01T10:00:00.000Z',
    updatedAt: '2025-03-01T10:00:00.000Z',
    closedAt: null,
    version: 1,
    ...overrides,
  };
}

function environment(key: string, settings: Partial<Environment> = {}): Environment {
  return {
    key,
    name: key,
    position: 0,
    protected: false,
    requiredApprovals: 1,
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    version: 1,
    ...settings,
  };
}

const refusal = {
  status: 409,
  code: 'CHANGE_REQUEST_REQUIRED',
  detail: '"production" is protected: to change its state there, open a change request (…); it applies once 3 other people approve it',
};

describe('the propose-or-change decision', () => {
  const environments = [environment('development'), environment('production', { protected: true, requiredApprovals: 2 })];

  it('proposes on a protected environment before anything is sent, with the approvals it needs', () => {
    expect(submissionFor(environments, 'production')).toEqual({ mode: 'propose', requiredApprovals: 2, because: 'protected' });
    expect(submissionFor(environments, 'development')).toEqual({ mode: 'direct' });
  });

  it('changes directly while the environments are not known, and proposes once a direct change was refused as protected', () => {
    expect(submissionFor(undefined, 'production')).toEqual({ mode: 'direct' });
    expect(submissionFor([environment('production')], 'production', refusal)).toEqual({
      mode: 'propose',
      requiredApprovals: 3,
      because: 'refused',
    });
    // Another failure is not a reason to propose.
    expect(submissionFor([environment('production')], 'production', { status: 409, code: 'CONFLICT', detail: 'x' })).toEqual({
      mode: 'direct',
    });
    expect(submissionFor(undefined, 'production', { ...refusal, detail: 'protected' })).toEqual({
      mode: 'propose',
      requiredApprovals: undefined,
      because: 'refused',
    });
  });

  it('knows the refusal by its status and code only', () => {
    expect(isChangeRequestRequired(refusal)).toBe(true);
    expect(isChangeRequestRequired({ ...refusal, status: 400 })).toBe(false);
    expect(isChangeRequestRequired(new Error('CHANGE_REQUEST_REQUIRED'))).toBe(false);
    expect(isChangeRequestRequired(undefined)).toBe(false);
  });

  it('says what proposing does, and why the form proposes', () => {
    expect(proposalNote({ mode: 'direct' }, 'production')).toBeUndefined();
    expect(proposalNote(submissionFor(environments, 'production'), 'production')).toBe(
      'production is protected: this opens a change request, which needs 2 approvals by other people before it can be applied.',
    );
    expect(proposalNote({ mode: 'propose', requiredApprovals: 1, because: 'refused' }, 'prod')).toBe(
      'prod became protected since this page was loaded: this opens a change request, which needs 1 approval by other people before it can be applied.',
    );
    expect(proposalNote({ mode: 'propose', requiredApprovals: undefined, because: 'refused' }, 'prod')).toContain('needs approvals before');
  });

  it('says over a protected environment’s rules that edits are drafted and proposed together', () => {
    expect(draftNote({ mode: 'direct' }, 'production')).toBeUndefined();
    expect(draftNote(submissionFor(environments, 'production'), 'production')).toBe(
      'production is protected: rule changes are collected in a draft of the whole list and proposed together as a change request, which needs 2 approvals by other people before it can be applied. Nothing changes in production until then.',
    );
    expect(draftNote({ mode: 'propose', requiredApprovals: undefined, because: 'refused' }, 'prod')).toMatch(
      /^prod became protected since this page was loaded: .* which needs approvals before/,
    );
  });

  it('sends a description only when one was typed', () => {
    expect(withDescription({ change: { enabled: true } }, '  ')).toEqual({ change: { enabled: true } });
    expect(withDescription({ change: { enabled: true }, description: 'old' }, '')).toEqual({ change: { enabled: true } });
    expect(withDescription({ rules: [] }, 'no more rules')).toEqual({ rules: [], description: 'no more rules' });
    expect(withDescription({ releasePlan: { templateId: 't' } }, ' launch day ')).toEqual({
      releasePlan: { templateId: 't' },
      description: 'launch day',
    });
  });
});

describe('what a person may do with a request', () => {
  const editorBob = { sub: bob.userId, role: 'editor' as const };
  const authorAnn = { sub: ann.userId, role: 'editor' as const };

  it('lets another editor approve or reject an open request, not apply it yet; its author only withdraws it', () => {
    expect(actionsFor(request(), editorBob)).toEqual({ approve: true, reject: true, apply: false, withdraw: false, comment: true });
    expect(actionsFor(request(), authorAnn)).toEqual({ approve: false, reject: false, apply: false, withdraw: true, comment: true });
  });

  it('approves once per person, and stops asking once it has its approvals; then anyone with the editor role applies it', () => {
    const once = request({ approvals: [{ ...bob, at: '2025-03-01T11:00:00.000Z' }] });
    expect(actionsFor(once, editorBob).approve).toBe(false);
    expect(actionsFor(once, { sub: 'u-cat', role: 'editor' }).approve).toBe(true);
    const approved = request({ status: 'approved', approvals: [{ ...bob, at: '2025-03-01T11:00:00.000Z' }] });
    expect(actionsFor(approved, { sub: 'u-cat', role: 'editor' })).toEqual({
      approve: false,
      reject: true,
      apply: true,
      withdraw: false,
      comment: true,
    });
    expect(actionsFor(approved, authorAnn).apply).toBe(true);
  });

  it('lets an admin withdraw anyone’s, gives a viewer nothing, and leaves a closed request to comments', () => {
    expect(actionsFor(request(), { sub: 'u-admin', role: 'admin' }).withdraw).toBe(true);
    expect(actionsFor(request(), { sub: 'u-viewer', role: 'viewer' })).toEqual({
      approve: false,
      reject: false,
      apply: false,
      withdraw: false,
      comment: false,
    });
    for (const status of ['applied', 'rejected', 'conflicted', 'failed', 'cancelled'] as const)
      expect(actionsFor(request({ status }), editorBob)).toEqual({
        approve: false,
        reject: false,
        apply: false,
        withdraw: false,
        comment: true,
      });
  });

  it('says why someone cannot approve, and what the request still needs', () => {
    expect(reviewNote(request(), authorAnn)).toBe(
      'You opened this request: other people approve it. It needs 2 more approvals before it can be applied.',
    );
    const once = request({ approvals: [{ ...bob, at: '2025-03-01T11:00:00.000Z' }] });
    expect(reviewNote(once, editorBob)).toBe('You approved it. It needs 1 more approval before it can be applied.');
    expect(reviewNote(once, { sub: 'u-viewer', role: 'viewer' })).toContain('Your role is viewer');
    expect(reviewNote(request(), { sub: 'u-cat', role: 'editor' })).toBeUndefined();
    expect(reviewNote(request({ status: 'applied' }), authorAnn)).toBeUndefined();
  });
});

describe('a request in words and in lists', () => {
  it('describes a change, a scheduled change and a release plan', () => {
    expect(describeRequest(request())).toBe('Turn it on');
    expect(
      describeRequest(
        request({ kind: 'schedule', change: null, schedule: { runAt: '2025-03-12T14:30:00.000Z', change: { enabled: false } } }),
        { when: () => '12 Mar 2025, 14:30' },
      ),
    ).toBe('On 12 Mar 2025, 14:30: turn it off');
    const plan = request({
      kind: 'release-plan',
      change: null,
      releasePlan: {
        milestones: [
          {
            serve: {
              rollout: [
                { variant: 'on', weight: 10 },
                { variant: 'off', weight: 90 },
              ],
            },
            holdSeconds: 60,
          },
          { serve: { variant: 'on' }, holdSeconds: 60 },
        ],
        guardrails: [{ metric: 'errors', treatment: 'on', control: 'off', maxDifference: 0.01 }],
      },
    });
    expect(describeRequest(plan)).toMatch(/^Start a release: .*, guarded by errors$/);
    expect(describeRequest({ ...plan, releasePlan: { templateId: 't-1' } })).toBe('Start a release from a saved template');
    expect(describeRequest(request({ change: { defaultServe: { variant: 'b' } } }), { variantLabel: (k) => k.toUpperCase() })).toBe(
      'Serve “B” when no rule matches',
    );
  });

  it('describes a request of rules by what it changes in the rules as they were', () => {
    const brazil = {
      name: 'Brazil',
      conditions: [{ attribute: 'country', operator: 'eq' as const, values: ['BR'] }],
      segments: [],
      serve: { variant: 'on' },
    };
    const staff = { ...brazil, name: 'Staff', conditions: [] };
    const rules = request({
      kind: 'rules',
      change: null,
      rules: [staff, brazil],
      diff: [{ path: '/', before: [brazil], after: [staff, brazil] }],
    });
    expect(describeRequest(rules)).toBe('Change the rules: 1 added (2 rules)');
    expect(describeRequest({ ...rules, rules: [], diff: [{ path: '/', before: [brazil], after: [] }] })).toBe('Remove every rule (1)');
    expect(describeRequest({ ...rules, diff: [] })).toBe('Keep the rules as they are (2 rules)');
    expect(describeRequest({ ...rules, rules: null })).toBe('Rules');
  });

  it('names each kind, and a kind it does not know by its own name', () => {
    expect(kindLabel('rules')).toBe('Rules');
    expect(kindLabel('schedule')).toBe('Scheduled change');
    expect(kindLabel('release-plan')).toBe('Release plan');
    expect(kindLabel('something-new' as ChangeRequest['kind'])).toBe('something-new');
  });

  it('counts approvals, says what an opened request needs', () => {
    expect(approvalCount(request({ approvals: [{ ...bob, at: 'x' }] }))).toBe('1/2');
    expect(missingApprovals(request({ approvals: [{ ...bob, at: 'x' }] }))).toBe(1);
    expect(openedMessage(request())).toBe('Change request opened — needs 2 approvals');
    expect(openedMessage(request({ requiredApprovals: 1 }))).toBe('Change request opened — needs 1 approval');
    expect(openedMessage(request({ status: 'approved', approvals: [{ ...bob, at: 'x' }], requiredApprovals: 1 }))).toBe(
      'Change request opened — approved already',
    );
  });

  it('keeps lists newest first, picks the waiting ones, and sees a request applied since the last answer', () => {
    const older = request({ id: 'a', createdAt: '2025-03-01T09:00:00.000Z' });
    const newer = request({ id: 'b', createdAt: '2025-03-01T12:00:00.000Z', environment: 'staging' });
    expect(withRequest([older], newer).map((r) => r.id)).toEqual(['b', 'a']);
    expect(withRequest([newer, older], { ...older, status: 'applied' }).map((r) => r.status)).toEqual(['open', 'applied']);
    expect(waitingOf([older, newer, request({ id: 'c', status: 'rejected' })], 'production').map((r) => r.id)).toEqual(['a']);
    expect(waitingOf([older, newer]).map((r) => r.id)).toEqual(['a', 'b']);
    expect(isWaiting({ status: 'approved' })).toBe(true);
    expect(isWaiting({ status: 'conflicted' })).toBe(false);
    expect(appliedSince(undefined, [{ ...older, status: 'applied' }])).toBe(false);
    expect(appliedSince([older], [{ ...older, status: 'applied' }])).toBe(true);
    expect(appliedSince([{ ...older, status: 'applied' }], [{ ...older, status: 'applied' }])).toBe(false);
    expect(
      appliedSince(
        [older],
        [
          { ...older, status: 'rejected' },
          { ...newer, status: 'applied' },
        ],
      ),
    ).toBe(false);
  });

  it('shows a count in the navigation only when something waits', () => {
    expect(waitingBadge(0, 100)).toBeUndefined();
    expect(waitingBadge(3, 100)).toBe('3');
    expect(waitingBadge(100, 100)).toBe('100+');
  });

  it('sees which fields a waiting request changes moved since it was planned', () => {
    const state = { enabled: false, offVariant: 'off', defaultServe: { variant: 'off' }, prerequisites: [] };
    expect(movedSince(request(), state)).toEqual([]);
    expect(movedSince(request(), { ...state, enabled: true })).toEqual(['enabled']);
    const serve = request({
      change: { defaultServe: { rollout: [{ variant: 'on', weight: 100 }] } },
      diff: [
        { path: '/defaultServe/rollout', before: null, after: [{ variant: 'on', weight: 100 }] },
        { path: '/defaultServe/variant', before: 'off', after: null },
      ],
    });
    expect(movedSince(serve, state)).toEqual([]);
    expect(movedSince(serve, { ...state, defaultServe: { variant: 'on' } })).toEqual(['defaultServe']);
    expect(movedSince(serve, undefined)).toEqual([]);
  });
});
