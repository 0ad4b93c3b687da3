import { useState, type FormEvent } from 'react';
import type { NewFlag } from '../api/endpoints.ts';
import type { Flag, FlagType, Variant } from '../api/types.ts';
import { slugify, slugPattern, tagPattern, variantKeyPattern } from '../lib/format.ts';
import { Button, ErrorBox, Field } from './ui.tsx';
import { defaultValueText, parseValue, ValueEditor, valueToText } from './values.tsx';

interface VariantDraft {
  key: string;
  name: string;
  text: string;
}

function defaultVariants(type: FlagType): VariantDraft[] {
  if (type === 'boolean')
    return [
      { key: 'on', name: '', text: 'true' },
      { key: 'off', name: '', text: 'false' },
    ];
  if (type === 'json')
    return [
      { key: 'default', name: '', text: '{}' },
      { key: 'alternative', name: '', text: '{}' },
    ];
  return [
    { key: 'control', name: '', text: defaultValueText(type, 0) },
    { key: 'treatment', name: '', text: defaultValueText(type, 1) },
  ];
}

export interface DefinitionResult {
  ok: boolean;
  flag?: NewFlag;
}

/**
 * The definition of a flag: key (on creation), name, description, tags, type, typed variants, and whether client
 * keys (web pages, apps) may evaluate it.
 */
export function FlagDefinitionForm({
  existing,
  onSubmit,
  busy,
  error,
  submitLabel,
  onCancel,
}: {
  existing?: Flag;
  onSubmit: (flag: NewFlag) => void;
  busy: boolean;
  error: unknown;
  submitLabel: string;
  onCancel: () => void;
}) {
  const [name, setName] = useState(existing?.name ?? '');
  const [key, setKey] = useState(existing?.key ?? '');
  const [keyTouched, setKeyTouched] = useState(Boolean(existing));
  const [description, setDescription] = useState(existing?.description ?? '');
  const [tagsText, setTagsText] = useState(existing?.tags.join(', ') ?? '');
  const [type, setType] = useState<FlagType>(existing?.type ?? 'boolean');
  const [variants, setVariants] = useState<VariantDraft[]>(() =>
    existing
      ? existing.variants.map((v) => ({ key: v.key, name: v.name ?? '', text: valueToText(existing.type, v.value) }))
      : defaultVariants('boolean'),
  );
  const [clientVisible, setClientVisible] = useState(existing?.clientVisible ?? false);
  const [submitted, setSubmitted] = useState(false);

  const effectiveKey = keyTouched ? key : slugify(name);
  const tags = tagsText
    .split(/[\s,]+/)
    .map((t) => t.trim())
    .filter(Boolean);
  const errors: Record<string, string> = {};
  if (!existing) {
    if (!effectiveKey) errors.key = 'A key is required';
    else if (!slugPattern.test(effectiveKey)) errors.key = 'Lower-case letters and digits, with - _ . between them (like new-checkout)';
  }
  if (!name.trim()) errors.name = 'A name is required';
  const badTags = tags.filter((t) => !tagPattern.test(t) || t.length > 50);
  if (badTags.length > 0)
    errors.tags = `Not a valid tag: ${badTags.join(', ')} (lower-case letters and digits, with - _ . : / between them)`;
  if (tags.length > 20) errors.tags = 'At most 20 tags';
  const parsed = variants.map((v) => parseValue(type, v.text));
  const seen = new Set<string>();
  const variantErrors = variants.map((v) => {
    if (!v.key) return 'A key is required';
    if (!variantKeyPattern.test(v.key)) return 'Letters and digits, with - _ . between them';
    if (seen.has(v.key)) return 'Two variants have this key';
    seen.add(v.key);
    return undefined;
  });
  if (variants.length === 0) errors.variants = 'A flag needs at least one variant';
  const valid = Object.keys(errors).length === 0 && variantErrors.every((e) => !e) && parsed.every((p) => p.ok);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    if (!valid) return;
    const out: Variant[] = variants.map((v, i) => ({
      key: v.key,
      value: (parsed[i] as { value: unknown }).value,
      ...(v.name.trim() ? { name: v.name.trim() } : {}),
    }));
    onSubmit({
      key: existing?.key ?? effectiveKey,
      name: name.trim(),
      description: description.trim(),
      tags,
      type,
      variants: out,
      clientVisible,
    });
  };
  const show = (message: string | undefined) => (submitted ? message : undefined);

  return (
    <form className="card form" onSubmit={submit} noValidate data-testid="flag-form">
      <div className="form-grid">
        <Field label="Name" error={show(errors.name)}>
          <input
            type="text"
            value={name}
            onChange={(e) => setName(e.target.value)}
            maxLength={200}
            data-testid="flag-name"
            autoFocus={!existing}
          />
        </Field>
        <Field
          label="Key"
          hint={existing ? 'The key cannot change: SDKs ask for the flag by it.' : 'What SDKs ask for; cannot change later.'}
          error={existing ? undefined : keyTouched || submitted ? errors.key : undefined}
        >
          <input
            type="text"
            value={effectiveKey}
            readOnly={Boolean(existing)}
            onChange={(e) => {
              setKeyTouched(true);
              setKey(e.target.value);
            }}
            maxLength={100}
            spellCheck={false}
            className="code"
            data-testid="flag-key"
          />
        </Field>
        <Field label="Description" className="span-2">
          <textarea
            rows={2}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            maxLength={2000}
            data-testid="flag-description"
          />
        </Field>
        <Field label="Tags" hint="Separated by commas or spaces" error={errors.tags}>
          <input type="text" value={tagsText} onChange={(e) => setTagsText(e.target.value)} data-testid="flag-tags" />
        </Field>
        <Field label="Type" hint={existing ? 'Changing the type needs every variant value to be of the new type.' : undefined}>
          <select
            value={type}
            onChange={(e) => {
              const next = e.target.value as FlagType;
              setType(next);
              if (!existing) setVariants(defaultVariants(next));
            }}
            data-testid="flag-type"
          >
            <option value="boolean">boolean</option>
            <option value="string">string</option>
            <option value="number">number</option>
            <option value="json">json</option>
          </select>
        </Field>
        <div className="field span-2">
          <label className="checkbox">
            <input
              type="checkbox"
              checked={clientVisible}
              onChange={(e) => setClientVisible(e.target.checked)}
              data-testid="flag-client-visible"
            />
            <span className="field-label">Available to client-side SDKs</span>
          </label>
          <span className="field-hint">
            {existing?.clientVisible && !clientVisible
              ? 'Web pages and apps asking for it with a client key will get their own default value instead.'
              : 'Client keys (web pages, mobile apps) may evaluate it, so anyone using them can read what it serves them. Off: only server keys evaluate it.'}
          </span>
        </div>
      </div>
      <fieldset className="variants">
        <legend>Variants</legend>
        <p className="field-hint">Each variant is a value of the flag’s type; rules and splits serve variants by key.</p>
        {errors.variants ? <p className="field-error">{errors.variants}</p> : null}
        <div className="variant-rows">
          {variants.map((v, i) => (
            <div className="variant-row" key={i} data-testid={`variant-${i}`}>
              <Field label="Key" error={variantErrors[i]}>
                <input
                  type="text"
                  className="code"
                  value={v.key}
                  onChange={(e) => setVariants(variants.map((x, j) => (j === i ? { ...x, key: e.target.value } : x)))}
                  maxLength={64}
                  spellCheck={false}
                  data-testid={`variant-${i}-key`}
                />
              </Field>
              <Field label="Value">
                <ValueEditor
                  type={type}
                  text={v.text}
                  label={`Value of variant ${v.key || i + 1}`}
                  onChange={(text) => setVariants(variants.map((x, j) => (j === i ? { ...x, text } : x)))}
                  error={parsed[i] && !parsed[i].ok ? parsed[i].error : undefined}
                  testId={`variant-${i}-value`}
                />
              </Field>
              <Field label="Label" hint="Optional">
                <input
                  type="text"
                  value={v.name}
                  onChange={(e) => setVariants(variants.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)))}
                  maxLength={200}
                />
              </Field>
              <button
                type="button"
                className="btn btn-ghost btn-small variant-remove"
                onClick={() => setVariants(variants.filter((_, j) => j !== i))}
                disabled={variants.length <= 1}
                aria-label={`Remove variant ${v.key || i + 1}`}
              >
                Remove
              </button>
            </div>
          ))}
        </div>
        <button
          type="button"
          className="btn btn-small"
          onClick={() =>
            setVariants([...variants, { key: `variant-${variants.length + 1}`, name: '', text: defaultValueText(type, variants.length) }])
          }
          disabled={variants.length >= 50}
          data-testid="add-variant"
        >
          + Add variant
        </button>
      </fieldset>
      {submitted && !valid ? (
        <p className="alert alert-error" role="alert">
          Some fields need attention before this can be saved.
        </p>
      ) : null}
      <ErrorBox error={error} />
      <div className="form-actions">
        <Button onClick={onCancel} disabled={busy}>
          Cancel
        </Button>
        <Button type="submit" variant="primary" busy={busy} busyLabel="Saving…" data-testid="flag-submit">
          {submitLabel}
        </Button>
      </div>
    </form>
  );
}
