import { useId } from 'react';
import type { FlagType } from '../api/types.ts';

export type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

const numberText = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** Reads what was typed as a value of the flag's type; a mismatch is refused here, before anything is sent. */
export function parseValue(type: FlagType, text: string): Parsed {
  switch (type) {
    case 'boolean':
      if (text === 'true') return { ok: true, value: true };
      if (text === 'false') return { ok: true, value: false };
      return { ok: false, error: 'Choose true or false' };
    case 'string':
      return text.length > 10_000 ? { ok: false, error: 'At most 10,000 characters' } : { ok: true, value: text };
    case 'number': {
      const trimmed = text.trim();
      if (trimmed === '') return { ok: false, error: 'Enter a number' };
      const value = Number(trimmed);
      if (!numberText.test(trimmed) || !Number.isFinite(value))
        return { ok: false, error: `"${text}" is not a number (like 10, -3 or 2.5)` };
      return { ok: true, value };
    }
    case 'json': {
      if (text.trim() === '') return { ok: false, error: 'Enter a JSON object, like {"limit": 50}' };
      let value: unknown;
      try {
        value = JSON.parse(text) as unknown;
      } catch (error) {
        return { ok: false, error: `Not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
      }
      // The API stores only objects for json flags (OFREP's object type).
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return {
          ok: false,
          error: 'A json flag\'s value is a JSON object: put an array or a single value in a property, like {"items": [1, 2]}',
        };
      return { ok: true, value };
    }
  }
}

export function valueToText(type: FlagType, value: unknown): string {
  if (type === 'string') return typeof value === 'string' ? value : '';
  if (type === 'json') return JSON.stringify(value, null, 2) ?? '';
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : (JSON.stringify(value) ?? '');
}

export function defaultValueText(type: FlagType, index: number): string {
  switch (type) {
    case 'boolean':
      return index === 0 ? 'true' : 'false';
    case 'string':
      return '';
    case 'number':
      return String(index);
    case 'json':
      return '{}';
  }
}

/** The editor for one variant value, shaped by the flag's type. */
export function ValueEditor({
  type,
  text,
  onChange,
  label,
  error,
  testId,
}: {
  type: FlagType;
  text: string;
  onChange: (text: string) => void;
  label: string;
  error?: string | undefined;
  testId?: string;
}) {
  const errorId = useId();
  const common = {
    'aria-label': label,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': error ? errorId : undefined,
    'data-testid': testId,
  } as const;
  return (
    <div className="value-editor">
      {type === 'boolean' ? (
        <select value={text} onChange={(e) => onChange(e.target.value)} {...common}>
          <option value="true">true</option>
          <option value="false">false</option>
        </select>
      ) : type === 'json' ? (
        <textarea
          className="code"
          rows={Math.min(8, Math.max(2, text.split('\n').length))}
          value={text}
          onChange={(e) => onChange(e.target.value)}
          spellCheck={false}
          {...common}
        />
      ) : (
        <input
          type="text"
          inputMode={type === 'number' ? 'decimal' : 'text'}
          value={text}
          onChange={(e) => onChange(e.target.value)}
          spellCheck={false}
          {...common}
        />
      )}
      {error ? (
        <span id={errorId} className="field-error" role="alert">
          {error}
        </span>
      ) : null}
    </div>
  );
}

/** A JSON text area that says at once whether what is typed is valid, and where it is not. */
export function JsonEditor({
  value,
  onChange,
  label,
  error,
  rows = 10,
  testId,
}: {
  value: string;
  onChange: (text: string) => void;
  label: string;
  error?: string | undefined;
  rows?: number;
  testId?: string;
}) {
  const errorId = useId();
  return (
    <div className="json-editor">
      <textarea
        className="code"
        rows={rows}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        spellCheck={false}
        aria-label={label}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? errorId : undefined}
        data-testid={testId}
      />
      <div className="json-editor-status">
        {error ? (
          <span id={errorId} className="field-error" role="alert">
            {error}
          </span>
        ) : (
          <span className="field-ok">Valid JSON</span>
        )}
        <button
          type="button"
          className="btn btn-ghost btn-small"
          disabled={Boolean(error)}
          onClick={() => {
            try {
              onChange(JSON.stringify(JSON.parse(value), null, 2));
            } catch {
              // refused above
            }
          }}
        >
          Format
        </button>
      </div>
    </div>
  );
}
