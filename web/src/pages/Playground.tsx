import { useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { flagsApi, targetingApi } from '../api/endpoints.ts';
import type { Flag, MatchAnswer, Rule } from '../api/types.ts';
import { describeCondition } from '../components/Conditions.tsx';
import { JsonEditor } from '../components/values.tsx';
import { Badge, Button, ErrorBox, Loading } from '../components/ui.tsx';
import { environmentName, useEnvironmentList, useEnvironments } from '../lib/environments.ts';
import { formatValue, reasonText } from '../lib/format.ts';
import { useAction, useResource } from '../lib/hooks.ts';
import { useProjects } from '../auth/projects.tsx';

const sampleContext = `{
  "targetingKey": "user-42",
  "email": "ana@example.com",
  "country": "BR",
  "plan": "pro",
  "appVersion": "2.4.0"
}`;

/** Reads the context text: a JSON object with an optional string targetingKey, as /targeting/match takes it. */
export function parseContext(text: string): { context?: Record<string, unknown>; error?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: `Not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { error: 'The context must be a JSON object, like {"targetingKey": "user-1"}' };
  const context = value as Record<string, unknown>;
  if ('targetingKey' in context && typeof context.targetingKey !== 'string') return { error: 'targetingKey must be a string' };
  if (typeof context.targetingKey === 'string' && context.targetingKey.length > 256)
    return { error: 'targetingKey may have at most 256 characters' };
  if (Object.keys(context).length > 200) return { error: 'A context has at most 200 attributes' };
  return { context };
}

/** Type a context, see what a flag answers and why: value, variant, reason, and which conditions held. */
export function PlaygroundPage() {
  const { current } = useProjects();
  // The current project's flags.
  const flags = useResource(async () => (await flagsApi.list({ project: current, limit: 200 })).data.items, [current]);
  const environments = useEnvironments();
  const [params, setParams] = useSearchParams();
  if (!flags.data || !environments.data)
    return flags.error || environments.error ? (
      <ErrorBox error={flags.error ?? environments.error} onRetry={flags.reload} />
    ) : (
      <Loading what="flags" />
    );
  const chosen = flags.data.find((f) => f.key === params.get('flag')) ?? flags.data[0];
  return (
    <section aria-labelledby="playground-title">
      <div className="page-head">
        <h1 id="playground-title">Playground</h1>
      </div>
      <p className="field-hint">Evaluates with the same engine as the evaluation service, without counting in analytics.</p>
      <div className="filters">
        <label>
          <span className="filter-label">Flag</span>
          <select
            value={chosen?.key ?? ''}
            onChange={(e) => setParams({ project: current, flag: e.target.value }, { replace: true })}
            data-testid="playground-flag"
          >
            {flags.data.map((f) => (
              <option key={f.key} value={f.key}>
                {f.key}
              </option>
            ))}
          </select>
        </label>
      </div>
      {chosen ? <Playground key={chosen.key} fixedFlag={chosen} environments={environments.data} /> : <p>No flags yet.</p>}
    </section>
  );
}

export function Playground({ fixedFlag: flag, environments }: { fixedFlag: Flag; environments: string[] }) {
  const [env, setEnv] = useState(environments[0] ?? '');
  const details = useEnvironmentList();
  const [text, setText] = useState(sampleContext);
  const parsed = parseContext(text);
  const rules = useResource(async () => (await targetingApi.rules(flag.key, env)).data.items, [flag.key, env]);
  const evaluate = useAction(async () => (await targetingApi.match(flag.key, env, parsed.context!)).data);
  const [answer, setAnswer] = useState<MatchAnswer | undefined>(undefined);
  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    if (parsed.error) return;
    void evaluate.run().then((a) => a && setAnswer(a));
  };

  return (
    <div className="playground" data-testid="playground">
      <form
        className="card playground-input"
        onSubmit={submit}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) submit();
        }}
      >
        <label className="field">
          <span className="field-label">Environment</span>
          <select value={env} onChange={(e) => setEnv(e.target.value)} data-testid="playground-env">
            {environments.map((e) => (
              <option key={e} value={e}>
                {environmentName(details.data, e)}
              </option>
            ))}
          </select>
        </label>
        <div className="field">
          <span className="field-label">Context (JSON)</span>
          <JsonEditor
            value={text}
            onChange={setText}
            label="Evaluation context as JSON"
            error={parsed.error}
            rows={10}
            testId="playground-context"
          />
        </div>
        <Button
          type="submit"
          variant="primary"
          busy={evaluate.busy}
          busyLabel="Evaluating…"
          disabled={Boolean(parsed.error)}
          data-testid="playground-evaluate"
        >
          Evaluate {flag.key}
        </Button>
        <span className="field-hint">Ctrl+Enter evaluates too.</span>
      </form>
      <div className="playground-output" aria-live="polite">
        <ErrorBox error={evaluate.error} />
        {answer ? <Explanation answer={answer} flag={flag} rules={rules.data ?? []} /> : <p className="muted">The answer appears here.</p>}
      </div>
    </div>
  );
}

function Explanation({ answer, flag, rules }: { answer: MatchAnswer; flag: Flag; rules: Rule[] }) {
  const { result, explanation } = answer;
  const ruleOf = (id: string) => rules.find((r) => r.id === id);
  return (
    <div className="card result" data-testid="playground-result">
      <dl className="result-grid">
        <div>
          <dt>Value</dt>
          <dd>
            <code data-testid="result-value">
              {result.value === undefined ? '(none: the SDK uses its default)' : formatValue(result.value, 500)}
            </code>
          </dd>
        </div>
        <div>
          <dt>Variant</dt>
          <dd data-testid="result-variant">{result.variant ?? '—'}</dd>
        </div>
        <div>
          <dt>Reason</dt>
          <dd>
            <Badge tone={result.reason === 'ERROR' ? 'off' : result.reason === 'DISABLED' ? 'warn' : 'on'} testId="result-reason">
              {result.reason}
            </Badge>{' '}
            <span className="muted">{reasonText[result.reason]}</span>
          </dd>
        </div>
        {result.ruleId ? (
          <div>
            <dt>Rule</dt>
            <dd>{ruleOf(result.ruleId)?.name || result.ruleId}</dd>
          </div>
        ) : null}
        {result.errorCode ? (
          <div>
            <dt>Error</dt>
            <dd>
              <code>{result.errorCode}</code> {result.errorMessage}
            </dd>
          </div>
        ) : null}
      </dl>
      {explanation.prerequisites.length > 0 ? (
        <>
          <h3>Prerequisites</h3>
          <ul className="checks">
            {explanation.prerequisites.map((p) => (
              <li key={p.flagKey} className={p.met ? 'held' : 'failed'}>
                <span className="mark" aria-label={p.met ? 'met' : 'not met'}>
                  {p.met ? '✓' : '✗'}
                </span>{' '}
                <code>{p.flagKey}</code> must serve <code>{p.variant}</code>; it served{' '}
                <code>{p.served ?? 'nothing (missing or error)'}</code>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <h3>Rules, in order</h3>
      {explanation.rules.length === 0 ? <p className="muted">{flag.key} has no rules here.</p> : null}
      <ol className="explain-rules">
        {explanation.rules.map((r) => {
          const rule = ruleOf(r.ruleId);
          const decided = r.ruleId === result.ruleId;
          return (
            <li
              key={r.ruleId}
              className={`explain-rule${r.matched ? ' matched' : ''}${decided ? ' decided' : ''}`}
              data-testid="explain-rule"
            >
              <div className="explain-head">
                <span className="mark">{r.matched ? '✓' : '✗'}</span> <strong>{rule?.name || 'Unnamed rule'}</strong>{' '}
                {decided ? <Badge tone="on">decided</Badge> : r.matched ? <Badge>would match</Badge> : <Badge tone="off">no match</Badge>}
              </div>
              <ul className="checks">
                {r.conditions.map((c, i) => {
                  const condition = rule?.conditions[i];
                  return (
                    <li key={i} className={c.held ? 'held' : 'failed'}>
                      <span className="mark" aria-label={c.held ? 'held' : 'did not hold'}>
                        {c.held ? '✓' : '✗'}
                      </span>{' '}
                      <code>{condition ? describeCondition(condition) : `${c.attribute} ${c.operator}`}</code>{' '}
                      <span className="muted">
                        ({c.attribute} is {c.actual === undefined ? 'missing' : formatValue(c.actual)})
                      </span>
                    </li>
                  );
                })}
                {r.segments.map((s) => (
                  <li key={s.key} className={s.held ? 'held' : 'failed'}>
                    <span className="mark">{s.held ? '✓' : '✗'}</span> in segment <code>{s.key}</code>
                  </li>
                ))}
              </ul>
            </li>
          );
        })}
      </ol>
    </div>
  );
}
