import { ruleInWords, type RuleMark, type RuleShape } from '../lib/rules-draft.ts';
import { Badge } from './ui.tsx';

const markBadges: Record<Exclude<RuleMark, undefined>, { tone: 'on' | 'off' | 'info'; text: string }> = {
  added: { tone: 'on', text: 'added' },
  changed: { tone: 'info', text: 'changed' },
  removed: { tone: 'off', text: 'removed' },
};

/**
 * Rules in words, in order (a request of rules, a proposal): each with its place, name, conditions and serve, and how
 * it stands against the other list (added, changed, removed) when that is known.
 */
export function RulesList({
  rules,
  empty,
  testId,
}: {
  rules: readonly { rule: RuleShape; mark?: RuleMark }[];
  /** What an empty list says. */
  empty: string;
  testId: string;
}) {
  if (rules.length === 0)
    return (
      <p className="muted" data-testid={`${testId}-empty`}>
        {empty}
      </p>
    );
  return (
    <ol className="rules-in-words" data-testid={testId}>
      {rules.map(({ rule, mark }, i) => {
        const words = ruleInWords(rule);
        const badge = mark ? markBadges[mark] : undefined;
        return (
          <li key={i} className={mark ? `rule-mark-${mark}` : undefined} data-testid={`${testId}-rule`} data-mark={mark ?? 'same'}>
            <div className="rules-in-words-title">
              <span className="rule-number">{i + 1}</span>
              <strong data-testid={`${testId}-rule-name`}>{words.name}</strong>
              {badge ? <Badge tone={badge.tone}>{badge.text}</Badge> : null}
            </div>
            <div className="rules-in-words-body">
              <span className="kw">if</span> <code>{words.when}</code> <span className="kw">serve</span>{' '}
              <strong data-testid={`${testId}-rule-serve`}>{words.serve}</strong>
            </div>
          </li>
        );
      })}
    </ol>
  );
}
