export interface Change {
  /** JSON pointer of what changed, e.g. `/environments/production/enabled`. */
  path: string;
  before: unknown;
  after: unknown;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The field-level changes between two versions of a document, for the audit trail: objects are walked, arrays
 * and scalars compared whole (a reordered variant list is one change, which is how people read it).
 */
export function diff(before: unknown, after: unknown, path = ''): Change[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => diff(before[k], after[k], `${path}/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path: path || '/', before: before ?? null, after: after ?? null }];
}
