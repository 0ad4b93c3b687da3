import type { Change } from '../api/types.ts';
import { formatValue } from '../lib/format.ts';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Breaks object-valued changes down to the leaves that differ, so each row says one thing. */
export function leafChanges(changes: Change[]): Change[] {
  const out: Change[] = [];
  const walk = (path: string, before: unknown, after: unknown) => {
    if (same(before, after)) return;
    if (isObject(before) && isObject(after)) {
      for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) walk(`${path}/${key}`, before[key], after[key]);
      return;
    }
    if (Array.isArray(before) && Array.isArray(after) && before.length === after.length && before.some((v) => isObject(v))) {
      before.forEach((v, i) => walk(`${path}/${i}`, v, after[i]));
      return;
    }
    out.push({ path, before, after });
  };
  for (const change of changes) walk(change.path === '/' ? '' : change.path, change.before, change.after);
  return out.filter((c) => !/^\/(updatedAt|createdAt|version)$/.test(c.path));
}

export function pathLabel(path: string): string {
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 0) return 'everything';
  return parts.map((p) => (/^\d+$/.test(p) ? `#${Number(p) + 1}` : p)).join(' › ');
}

/** A readable diff of an audit entry's changes: one row per field, before and after. */
export function Diff({ changes }: { changes: Change[] }) {
  const created = changes.length === 1 && changes[0]!.path === '/' && changes[0]!.before === null;
  const deleted = changes.length === 1 && changes[0]!.path === '/' && changes[0]!.after === null;
  if (created || deleted) {
    const snapshot = created ? changes[0]!.after : changes[0]!.before;
    return (
      <details className="diff-snapshot">
        <summary>{created ? 'Show what was created' : 'Show what was deleted'}</summary>
        <pre className="code">{JSON.stringify(snapshot, null, 2)}</pre>
      </details>
    );
  }
  const rows = leafChanges(changes);
  if (rows.length === 0) return <p className="field-hint">No visible field changed.</p>;
  return (
    <div className="table-wrap">
      <table className="diff">
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Before</th>
            <th scope="col">After</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={i}>
              <th scope="row">{pathLabel(row.path)}</th>
              <td className="diff-before">{row.before === undefined ? <em>none</em> : <code>{formatValue(row.before, 300)}</code>}</td>
              <td className="diff-after">{row.after === undefined ? <em>removed</em> : <code>{formatValue(row.after, 300)}</code>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
