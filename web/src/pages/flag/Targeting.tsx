import { useEffect, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { closestCenter, DndContext, KeyboardSensor, PointerSensor, useSensor, useSensors, type DragEndEvent } from '@dnd-kit/core';
import { arrayMove, SortableContext, sortableKeyboardCoordinates, useSortable, verticalListSortingStrategy } from '@dnd-kit/sortable';
import { CSS } from '@dnd-kit/utilities';
import { targetingApi, type RuleInput } from '../../api/endpoints.ts';
import type { ChangeRequest, Flag, Rule, StoredSegment } from '../../api/types.ts';
import { usePermissions } from '../../auth/session.tsx';
import {
  checkCondition,
  conditionDraftOf,
  ConditionsEditor,
  describeCondition,
  type ConditionDraft,
} from '../../components/Conditions.tsx';
import { checkServe, serveDraftOf, ServeEditor, type ServeDraft } from '../../components/ServeEditor.tsx';
import { Badge, Button, ConfirmDialog, Empty, ErrorBox, Field, Loading, ReadOnlyNote, useToast } from '../../components/ui.tsx';
import { describeServe, isProductionLike } from '../../lib/format.ts';
import { useAction, useResource } from '../../lib/hooks.ts';
import { draftNote, isChangeRequestRequired, openedMessage, submissionFor, waitingOf } from '../../lib/change-requests.ts';
import { forgetEnvironments, useEnvironmentList } from '../../lib/environments.ts';
import {
  addToDraft,
  describeDraft,
  draftChanges,
  draftOf,
  moveInDraft,
  removeFromDraft,
  replaceInDraft,
  sameRules,
  type DraftMark,
  type DraftRule,
  type RuleShape,
} from '../../lib/rules-draft.ts';
import { EnvironmentChangeRequests, ProposeChangeDialog, ProposedNotice, useFlagChangeRequests } from './ChangeRequests.tsx';
import type { FlagTabProps } from './tab-props.ts';
import { projectOf } from '../../lib/projects.ts';

/**
 * The ordered rules of a flag in one environment: add, edit, delete, and drag to reorder. In a protected environment
 * (or one that became protected since the page loaded: a write refused with CHANGE_REQUEST_REQUIRED) the same edits
 * make a draft of the whole list, proposed as one change request.
 */
export function TargetingTab({ flag, environments, reload }: FlagTabProps) {
  const [params, setParams] = useSearchParams();
  const env =
    params.get('environment') && environments.includes(params.get('environment')!) ? params.get('environment')! : environments[0]!;
  const { canEdit, editReason } = usePermissions();
  const toast = useToast();
  const rules = useResource(async () => (await targetingApi.rules(flag.key, env)).data.items, [flag.key, env]);
  // Rules use the segments of the flag's project.
  const segments = useResource(async () => (await targetingApi.segments(projectOf(flag))).data.items, [flag.project]);
  const [order, setOrder] = useState<Rule[]>([]);
  const [adding, setAdding] = useState(false);
  // The key of the rule being edited (its id; in a draft, `new-N` for one added there).
  const [editing, setEditing] = useState<string | undefined>(undefined);
  const [deleting, setDeleting] = useState<DraftRule | undefined>(undefined);
  useEffect(() => setOrder(rules.data ?? []), [rules.data]);

  // A protected environment takes rules only through change requests (see submissionFor): edits make a draft.
  const details = useEnvironmentList();
  const [refusal, setRefusal] = useState<unknown>(undefined);
  const submission = submissionFor(details.data, env, refusal);
  const drafting = submission.mode === 'propose';
  // The draft, once edited: the rules as they will be, and the rules as they were when it was started.
  const [draft, setDraft] = useState<{ rules: DraftRule[]; base: Rule[] } | undefined>(undefined);
  const [proposing, setProposing] = useState(false);
  const [opened, setOpened] = useState<ChangeRequest | undefined>(undefined);
  // The flag's requests (those waiting here are listed); when one is applied the rules and the flag are read again.
  const changeRequests = useFlagChangeRequests(flag.key, () => {
    rules.reload();
    reload();
  });
  useEffect(() => {
    setAdding(false);
    setEditing(undefined);
    setDraft(undefined);
    setRefusal(undefined);
    setProposing(false);
    setOpened(undefined);
  }, [env]);

  const current = rules.data ?? [];
  const shown: DraftRule[] = drafting ? (draft?.rules ?? draftOf(current)) : draftOf(order);
  const changes = draft ? draftChanges(draft.rules, draft.base) : undefined;
  const dirty = draft !== undefined && !sameRules(draft.rules, current);
  // The rules changed under the draft (a request applied meanwhile): it is proposed over them as they are now.
  const baseMoved = draft !== undefined && !sameRules(draft.base, current);
  const rulesWaiting = waitingOf(changeRequests.items ?? [], env).filter((r) => r.kind === 'rules');
  const editDraft = (edit: (rules: DraftRule[]) => DraftRule[]) =>
    setDraft((was) => (was ? { ...was, rules: edit(was.rules) } : { base: current, rules: edit(draftOf(current)) }));
  /** A direct write refused as the environment is protected now: the edit goes into a draft, to propose. */
  const becameProtected = (error: unknown, edit: (rules: DraftRule[]) => DraftRule[]) => {
    forgetEnvironments();
    details.reload();
    setRefusal(error);
    editDraft(edit);
    toast(`${env} is protected now: your change is kept in a draft of its rules, to propose.`);
  };
  const discard = () => {
    setDraft(undefined);
    setEditing(undefined);
    setAdding(false);
  };

  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 4 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );
  const reorder = useAction(async (from: string, to: string) => {
    const previous = order;
    const next = arrayMove(
      order,
      order.findIndex((r) => r.id === from),
      order.findIndex((r) => r.id === to),
    );
    setOrder(next);
    try {
      const { data } = await targetingApi.reorder(
        flag.key,
        env,
        next.map((r) => r.id),
      );
      rules.setData(data.items);
      toast('Rule order saved.');
    } catch (error) {
      setOrder(previous);
      if (!isChangeRequestRequired(error)) throw error;
      becameProtected(error, (rules) => moveInDraft(rules, from, to));
    }
  });
  const onDragEnd = (event: DragEndEvent) => {
    const { active, over } = event;
    if (!over || active.id === over.id) return;
    const [from, to] = [String(active.id), String(over.id)];
    if (!shown.some((r) => r.key === from) || !shown.some((r) => r.key === to)) return;
    if (drafting) editDraft((rules) => moveInDraft(rules, from, to));
    else void reorder.run(from, to);
  };
  const remove = useAction(async (rule: DraftRule) => {
    try {
      await targetingApi.deleteRule(rule.key);
      rules.reload();
      toast(`Rule “${rule.name || 'unnamed'}” deleted.`);
    } catch (error) {
      if (!isChangeRequestRequired(error)) throw error;
      becameProtected(error, (rules) => removeFromDraft(rules, rule.key));
    }
    setDeleting(undefined);
  });
  const onDelete = (rule: DraftRule) => {
    if (!drafting) return setDeleting(rule);
    // In a draft nothing is deleted yet (Discard draft brings it back).
    editDraft((rules) => removeFromDraft(rules, rule.key));
    if (editing === rule.key) setEditing(undefined);
    toast(`Rule “${rule.name || 'unnamed'}” removed from the draft.`);
  };
  /** Saves a rule written in the editor (`key`: the rule edited; none for a new one) — or puts it in the draft. */
  const saveRule = async (key: string | undefined, input: RuleInput) => {
    const edit = (rules: DraftRule[]) => (key === undefined ? addToDraft(rules, input) : replaceInDraft(rules, key, input));
    if (drafting) {
      editDraft(edit);
      toast(key === undefined ? 'Rule added to the draft.' : 'Rule changed in the draft.');
      return;
    }
    try {
      if (key === undefined) await targetingApi.createRule(flag.key, env, input);
      else await targetingApi.updateRule(key, input);
      rules.reload();
      toast(key === undefined ? 'Rule added.' : 'Rule saved.');
    } catch (error) {
      if (!isChangeRequestRequired(error)) throw error;
      becameProtected(error, edit);
    }
  };
  const onProposed = (request: ChangeRequest) => {
    setProposing(false);
    setDraft(undefined);
    setEditing(undefined);
    setAdding(false);
    changeRequests.put(request);
    setOpened(request);
    toast(`${openedMessage(request)} in ${env}.`);
  };
  const state = flag.environments[env];

  return (
    <div className="targeting" data-testid="targeting">
      <div className="env-picker" role="tablist" aria-label="Environment">
        {environments.map((e) => (
          <button
            key={e}
            type="button"
            role="tab"
            aria-selected={e === env}
            className={`env-tab${e === env ? ' active' : ''}`}
            onClick={() => setParams({ environment: e }, { replace: true })}
            data-testid={`targeting-env-${e}`}
          >
            {e} {flag.environments[e]?.enabled ? <Badge tone="on">on</Badge> : <Badge tone="off">off</Badge>}
            {details.data?.find((d) => d.key === e)?.protected ? (
              <>
                {' '}
                <Badge tone="warn">protected</Badge>
              </>
            ) : null}
          </button>
        ))}
      </div>
      {state && !state.enabled ? (
        <p className="alert alert-info">
          {flag.key} is off in {env}: everyone gets <strong>{state.offVariant}</strong> and these rules are not looked at until it is turned
          on.
        </p>
      ) : null}
      {drafting ? (
        <p className={`alert ${submission.because === 'refused' ? 'alert-warn' : 'alert-info'}`} data-testid="targeting-protected">
          {draftNote(submission, env)}
        </p>
      ) : isProductionLike(env) && canEdit ? (
        <p className="alert alert-warn">You are editing {env}: changes reach its users within a second.</p>
      ) : null}
      {opened ? <ProposedNotice request={opened} onDismiss={() => setOpened(undefined)} testId="targeting-proposed" /> : null}
      {drafting || waitingOf(changeRequests.items ?? [], env).length > 0 ? (
        <EnvironmentChangeRequests flag={flag} env={env} requests={changeRequests} shown={drafting} />
      ) : null}
      <ErrorBox error={rules.error ?? segments.error} onRetry={rules.reload} />
      <ErrorBox error={reorder.error} title="The new order was not saved." />
      {rules.loading && !rules.data ? <Loading what="rules" /> : null}
      {rules.data ? (
        <>
          {drafting && canEdit ? (
            <div className="rules-draft card" data-testid="rules-draft" data-dirty={dirty || undefined}>
              <div>
                <span data-testid="rules-draft-summary">
                  {dirty && draft ? (
                    <>
                      Draft: <strong>{describeDraft(draft.rules, draft.base) ?? 'the rules this draft started from'}</strong> — not proposed
                      yet.
                    </>
                  ) : (
                    'No changes drafted: add, edit, delete or move rules below, then propose them together.'
                  )}
                </span>
                {dirty && baseMoved ? (
                  <p className="field-hint" data-testid="rules-draft-moved">
                    The rules in {env} changed since this draft was started: it is proposed as it is, in place of the rules as they are now.
                  </p>
                ) : null}
                {dirty && rulesWaiting.length > 0 ? (
                  <p className="field-hint" data-testid="rules-draft-waiting">
                    {rulesWaiting.length === 1
                      ? 'A change request of rules already waits'
                      : `${rulesWaiting.length} change requests of rules already wait`}{' '}
                    in {env}: once one of them is applied, the others are refused as conflicts.
                  </p>
                ) : null}
              </div>
              <div className="form-actions">
                <Button onClick={discard} disabled={!draft} data-testid="rules-draft-discard">
                  Discard draft
                </Button>
                <Button
                  variant="primary"
                  onClick={() => setProposing(true)}
                  disabled={!dirty}
                  title={dirty ? `Open a change request that sets these rules in ${env}` : 'Nothing to propose yet'}
                  data-testid="rules-propose"
                >
                  Propose these rules…
                </Button>
              </div>
            </div>
          ) : null}
          <p className="field-hint">
            Rules run from the top; the first one whose conditions all hold decides.{' '}
            {canEdit && shown.length > 1
              ? 'Drag a rule by its handle (or focus the handle and use the arrow keys) to change the order.'
              : ''}
          </p>
          {shown.length === 0 && !adding ? (
            <Empty>
              {drafting && dirty
                ? `No rules in the draft: everyone in ${env} would get the default serve.`
                : `No rules in ${env}: everyone gets the default serve.`}
            </Empty>
          ) : null}
          <DndContext sensors={sensors} collisionDetection={closestCenter} onDragEnd={onDragEnd}>
            <SortableContext items={shown.map((r) => r.key)} strategy={verticalListSortingStrategy}>
              <ol className="rules" data-testid="rules" aria-busy={reorder.busy || undefined}>
                {shown.map((rule, index) =>
                  editing === rule.key ? (
                    <li key={rule.key} className="rule card">
                      <RuleEditor
                        flag={flag}
                        env={env}
                        rule={rule}
                        drafting={drafting}
                        segments={segments.data ?? []}
                        onSave={(input) => saveRule(rule.key, input)}
                        onDone={() => setEditing(undefined)}
                      />
                    </li>
                  ) : (
                    <SortableRule
                      key={rule.key}
                      rule={rule}
                      index={index}
                      mark={changes?.marks.get(rule.key)}
                      drafted={drafting}
                      canEdit={canEdit}
                      editReason={editReason}
                      busy={reorder.busy}
                      onEdit={() => setEditing(rule.key)}
                      onDelete={() => onDelete(rule)}
                    />
                  ),
                )}
              </ol>
            </SortableContext>
          </DndContext>
          {drafting && changes && changes.deleted.length > 0 ? (
            <p className="field-hint" data-testid="rules-draft-deleted">
              Deleted in the draft: {changes.deleted.map((r) => `“${r.name || 'Unnamed rule'}”`).join(', ')}.
            </p>
          ) : null}
          {adding ? (
            <div className="card rule-new">
              <RuleEditor
                flag={flag}
                env={env}
                drafting={drafting}
                segments={segments.data ?? []}
                onSave={(input) => saveRule(undefined, input)}
                onDone={() => setAdding(false)}
              />
            </div>
          ) : (
            <Button
              variant="primary"
              onClick={() => setAdding(true)}
              disabledReason={canEdit ? undefined : editReason}
              data-testid="add-rule"
            >
              {drafting ? '+ Add rule to the draft' : '+ Add rule'}
            </Button>
          )}
          {state ? (
            <div className="fallthrough">
              <strong>Otherwise</strong> serve <strong>{describeServe(state.defaultServe)}</strong> (the default serve —{' '}
              <Link to={`/flags/${flag.key}`}>change it</Link>).
            </div>
          ) : null}
          {!canEdit ? <ReadOnlyNote reason={editReason} /> : null}
        </>
      ) : null}
      <ProposeChangeDialog
        flag={flag}
        env={env}
        rules={proposing && draft ? { before: current, after: draft.rules } : undefined}
        submission={submission}
        onOpened={onProposed}
        onCancel={() => setProposing(false)}
        testId="rules-proposal"
      />
      <ConfirmDialog
        open={deleting !== undefined}
        title="Delete this rule?"
        confirmLabel="Delete rule"
        danger
        busy={remove.busy}
        error={remove.error}
        onConfirm={() => deleting && void remove.run(deleting)}
        onCancel={() => {
          setDeleting(undefined);
          remove.clear();
        }}
      >
        <p>
          “{deleting?.name || 'Unnamed rule'}” stops applying in {env} at once; the rules after it move up.
        </p>
      </ConfirmDialog>
    </div>
  );
}

function SortableRule({
  rule,
  index,
  mark,
  drafted,
  canEdit,
  editReason,
  busy,
  onEdit,
  onDelete,
}: {
  rule: DraftRule;
  index: number;
  /** How it differs from the rules as they are (a draft's rule). */
  mark: DraftMark | undefined;
  /** Part of a draft: edit and delete change the draft. */
  drafted: boolean;
  canEdit: boolean;
  editReason: string;
  busy: boolean;
  onEdit: () => void;
  onDelete: () => void;
}) {
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, transform, transition, isDragging } = useSortable({
    id: rule.key,
    disabled: !canEdit || busy,
  });
  const style = { transform: CSS.Transform.toString(transform), transition };
  return (
    <li
      ref={setNodeRef}
      style={style}
      className={`rule card${isDragging ? ' dragging' : ''}${mark ? ' rule-drafted' : ''}`}
      data-testid={`rule-${index}`}
      data-rule-id={rule.ruleId}
      data-draft-mark={mark}
    >
      {canEdit ? (
        <button
          type="button"
          ref={setActivatorNodeRef}
          className="drag-handle"
          aria-label={`Move rule ${index + 1} (${rule.name || 'unnamed'})`}
          {...attributes}
          {...listeners}
          data-testid={`rule-${index}-handle`}
        >
          ⋮⋮
        </button>
      ) : null}
      <div className="rule-body">
        <div className="rule-title">
          <span className="rule-number">{index + 1}</span>
          <strong data-testid={`rule-${index}-name`}>{rule.name || 'Unnamed rule'}</strong>
          {mark ? (
            <Badge tone={mark === 'added' ? 'on' : 'info'} testId={`rule-${index}-mark`} title="Not proposed yet: part of the draft">
              {mark === 'added' ? 'added in draft' : 'edited in draft'}
            </Badge>
          ) : null}
        </div>
        <div className="rule-if">
          <span className="kw">if</span>
          {rule.conditions.length === 0 && rule.segments.length === 0 ? <span>every context</span> : null}
          {rule.conditions.map((c, i) => (
            <span key={i} className="cond">
              {i > 0 ? <span className="kw">and</span> : null}
              <code>{describeCondition(c)}</code>
            </span>
          ))}
          {rule.segments.map((s, i) => (
            <span key={s} className="cond">
              {i > 0 || rule.conditions.length > 0 ? <span className="kw">and</span> : null}
              in segment <code>{s}</code>
            </span>
          ))}
        </div>
        <div className="rule-serve">
          <span className="kw">serve</span> <strong data-testid={`rule-${index}-serve`}>{describeServe(rule.serve)}</strong>
        </div>
      </div>
      <div className="rule-actions">
        <Button small onClick={onEdit} disabledReason={canEdit ? undefined : editReason} data-testid={`rule-${index}-edit`}>
          Edit
        </Button>
        <Button
          small
          variant="danger"
          onClick={onDelete}
          disabledReason={canEdit ? undefined : editReason}
          title={drafted ? 'Remove it from the draft' : undefined}
          data-testid={`rule-${index}-delete`}
        >
          Delete
        </Button>
      </div>
    </li>
  );
}

function RuleEditor({
  flag,
  env,
  rule,
  drafting,
  segments,
  onSave,
  onDone,
}: {
  flag: Flag;
  env: string;
  rule?: RuleShape;
  /** The environment is protected: the rule goes into the draft, not to targeting. */
  drafting: boolean;
  segments: StoredSegment[];
  /** Writes the rule (or puts it in the draft); a failure stays in the form. */
  onSave: (input: RuleInput) => Promise<void>;
  /** Closes the form: saved, or cancelled. */
  onDone: () => void;
}) {
  const [name, setName] = useState(rule?.name ?? '');
  const [conditions, setConditions] = useState<ConditionDraft[]>(() =>
    rule ? rule.conditions.map(conditionDraftOf) : [conditionDraftOf()],
  );
  const [segmentKeys, setSegmentKeys] = useState<string[]>(rule?.segments ?? []);
  const [serve, setServe] = useState<ServeDraft>(() => serveDraftOf(rule?.serve, flag.variants));
  const [submitted, setSubmitted] = useState(false);
  const checks = conditions.map(checkCondition);
  const serveCheck = checkServe(serve);
  const valid = checks.every((c) => c.condition) && serveCheck.serve !== undefined;
  const save = useAction(async (input: RuleInput) => {
    await onSave(input);
    onDone();
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    if (!valid) return;
    void save.run({ name: name.trim(), conditions: checks.map((c) => c.condition!), segments: segmentKeys, serve: serveCheck.serve! });
  };
  return (
    <form className="rule-editor" onSubmit={submit} noValidate data-testid="rule-editor">
      <h3>{rule ? (drafting ? 'Edit rule (draft)' : 'Edit rule') : drafting ? `New rule in ${env} (draft)` : `New rule in ${env}`}</h3>
      <Field label="Name" hint="Optional; says who the rule is for">
        <input type="text" value={name} onChange={(e) => setName(e.target.value)} maxLength={200} data-testid="rule-name" autoFocus />
      </Field>
      <div className="field">
        <span className="field-label">Conditions (all must hold)</span>
        <ConditionsEditor drafts={conditions} onChange={setConditions} segments={segments} />
      </div>
      {segments.length > 0 ? (
        <div className="field">
          <span className="field-label">Segments (the context must be in every one)</span>
          <div className="checkbox-list">
            {segments.map((s) => (
              <label key={s.key} className="checkbox">
                <input
                  type="checkbox"
                  checked={segmentKeys.includes(s.key)}
                  onChange={(e) => setSegmentKeys(e.target.checked ? [...segmentKeys, s.key] : segmentKeys.filter((k) => k !== s.key))}
                />
                {s.name} <code>{s.key}</code>
              </label>
            ))}
          </div>
        </div>
      ) : null}
      <div className="field">
        <span className="field-label">Serve</span>
        <ServeEditor variants={flag.variants} draft={serve} onChange={setServe} testId="rule-serve" />
      </div>
      {submitted && !valid ? (
        <p className="alert alert-error" role="alert">
          Some fields need attention before this rule can be saved.
        </p>
      ) : null}
      <ErrorBox error={save.error} />
      <div className="form-actions">
        <Button onClick={onDone} disabled={save.busy}>
          Cancel
        </Button>
        <Button type="submit" variant="primary" busy={save.busy} busyLabel="Saving…" data-testid="rule-save">
          {drafting ? (rule ? 'Change in draft' : 'Add to draft') : rule ? 'Save rule' : 'Add rule'}
        </Button>
      </div>
    </form>
  );
}
