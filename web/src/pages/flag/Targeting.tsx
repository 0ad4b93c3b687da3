import { useEffect, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { closestCenter, DndContext, KeyboardSensor, PointerSensor, useSensor, useSensors, type DragEndEvent } from '@dnd-kit/core';
import { arrayMove, SortableContext, sortableKeyboardCoordinates, useSortable, verticalListSortingStrategy } from '@dnd-kit/sortable';
import { CSS } from '@dnd-kit/utilities';
import { targetingApi, type RuleInput } from '../../api/endpoints.ts';
import type { Flag, Rule, StoredSegment } from '../../api/types.ts';
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
import type { FlagTabProps } from './tab-props.ts';

/** The ordered rules of a flag in one environment: add, edit, delete, and drag to reorder. */
export function TargetingTab({ flag, environments }: FlagTabProps) {
  const [params, setParams] = useSearchParams();
  const env =
    params.get('environment') && environments.includes(params.get('environment')!) ? params.get('environment')! : environments[0]!;
  const { canEdit, editReason } = usePermissions();
  const toast = useToast();
  const rules = useResource(async () => (await targetingApi.rules(flag.key, env)).data.items, [flag.key, env]);
  const segments = useResource(async () => (await targetingApi.segments()).data.items, []);
  const [order, setOrder] = useState<Rule[]>([]);
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<string | undefined>(undefined);
  const [deleting, setDeleting] = useState<Rule | undefined>(undefined);
  useEffect(() => setOrder(rules.data ?? []), [rules.data]);
  useEffect(() => {
    setAdding(false);
    setEditing(undefined);
  }, [env]);

  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 4 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );
  const reorder = useAction(async (next: Rule[], previous: Rule[]) => {
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
      throw error;
    }
  });
  const onDragEnd = (event: DragEndEvent) => {
    const { active, over } = event;
    if (!over || active.id === over.id) return;
    const from = order.findIndex((r) => r.id === active.id);
    const to = order.findIndex((r) => r.id === over.id);
    if (from < 0 || to < 0) return;
    void reorder.run(arrayMove(order, from, to), order);
  };
  const remove = useAction(async (rule: Rule) => {
    await targetingApi.deleteRule(rule.id);
    setDeleting(undefined);
    rules.reload();
    toast(`Rule “${rule.name || 'unnamed'}” deleted.`);
  });
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
          </button>
        ))}
      </div>
      {state && !state.enabled ? (
        <p className="alert alert-info">
          {flag.key} is off in {env}: everyone gets <strong>{state.offVariant}</strong> and these rules are not looked at until it is turned
          on.
        </p>
      ) : null}
      {isProductionLike(env) && canEdit ? (
        <p className="alert alert-warn">You are editing {env}: changes reach its users within a second.</p>
      ) : null}
      <ErrorBox error={rules.error ?? segments.error} onRetry={rules.reload} />
      <ErrorBox error={reorder.error} title="The new order was not saved." />
      {rules.loading && !rules.data ? <Loading what="rules" /> : null}
      {rules.data ? (
        <>
          <p className="field-hint">
            Rules run from the top; the first one whose conditions all hold decides.{' '}
            {canEdit && order.length > 1
              ? 'Drag a rule by its handle (or focus the handle and use the arrow keys) to change the order.'
              : ''}
          </p>
          {order.length === 0 && !adding ? <Empty>No rules in {env}: everyone gets the default serve.</Empty> : null}
          <DndContext sensors={sensors} collisionDetection={closestCenter} onDragEnd={onDragEnd}>
            <SortableContext items={order.map((r) => r.id)} strategy={verticalListSortingStrategy}>
              <ol className="rules" data-testid="rules" aria-busy={reorder.busy || undefined}>
                {order.map((rule, index) =>
                  editing === rule.id ? (
                    <li key={rule.id} className="rule card">
                      <RuleEditor
                        flag={flag}
                        env={env}
                        rule={rule}
                        segments={segments.data ?? []}
                        onDone={(saved) => {
                          setEditing(undefined);
                          if (saved) {
                            rules.reload();
                            toast('Rule saved.');
                          }
                        }}
                      />
                    </li>
                  ) : (
                    <SortableRule
                      key={rule.id}
                      rule={rule}
                      index={index}
                      canEdit={canEdit}
                      editReason={editReason}
                      busy={reorder.busy}
                      onEdit={() => setEditing(rule.id)}
                      onDelete={() => setDeleting(rule)}
                    />
                  ),
                )}
              </ol>
            </SortableContext>
          </DndContext>
          {adding ? (
            <div className="card rule-new">
              <RuleEditor
                flag={flag}
                env={env}
                segments={segments.data ?? []}
                onDone={(saved) => {
                  setAdding(false);
                  if (saved) {
                    rules.reload();
                    toast('Rule added.');
                  }
                }}
              />
            </div>
          ) : (
            <Button
              variant="primary"
              onClick={() => setAdding(true)}
              disabledReason={canEdit ? undefined : editReason}
              data-testid="add-rule"
            >
              + Add rule
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
  canEdit,
  editReason,
  busy,
  onEdit,
  onDelete,
}: {
  rule: Rule;
  index: number;
  canEdit: boolean;
  editReason: string;
  busy: boolean;
  onEdit: () => void;
  onDelete: () => void;
}) {
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, transform, transition, isDragging } = useSortable({
    id: rule.id,
    disabled: !canEdit || busy,
  });
  const style = { transform: CSS.Transform.toString(transform), transition };
  return (
    <li
      ref={setNodeRef}
      style={style}
      className={`rule card${isDragging ? ' dragging' : ''}`}
      data-testid={`rule-${index}`}
      data-rule-id={rule.id}
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
  segments,
  onDone,
}: {
  flag: Flag;
  env: string;
  rule?: Rule;
  segments: StoredSegment[];
  onDone: (saved: boolean) => void;
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
    if (rule) await targetingApi.updateRule(rule.id, input);
    else await targetingApi.createRule(flag.key, env, input);
    onDone(true);
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    if (!valid) return;
    void save.run({ name: name.trim(), conditions: checks.map((c) => c.condition!), segments: segmentKeys, serve: serveCheck.serve! });
  };
  return (
    <form className="rule-editor" onSubmit={submit} noValidate data-testid="rule-editor">
      <h3>{rule ? 'Edit rule' : `New rule in ${env}`}</h3>
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
        <Button onClick={() => onDone(false)} disabled={save.busy}>
          Cancel
        </Button>
        <Button type="submit" variant="primary" busy={save.busy} busyLabel="Saving…" data-testid="rule-save">
          {rule ? 'Save rule' : 'Add rule'}
        </Button>
      </div>
    </form>
  );
}
