import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';

/**
 * TypeBox validation for every request part. Query strings, params and headers arrive as strings: they get their
 * defaults and are converted to the schema's types. A JSON body is taken as sent: no coercion, no defaults, no
 * fields dropped, so `"true"` is not a boolean and an unknown field is an error.
 *
 * No string anywhere in a body, query string or path may hold the NUL character: PostgreSQL cannot store one
 * (text or jsonb), so it is a 400 naming the field here, for every route, rather than a 500 from the database.
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  // Compiled on the route's first request, not at start-up: compiling every route's schemas was a good part of a
  // service's cold start, most of them for routes an instance seldom serves.
  let compiled: ReturnType<typeof Compile<TSchema>> | undefined;
  let prepare = false;
  // Node's HTTP parser already refuses a NUL in a header.
  const refuseNul = httpPart !== 'headers';
  return (input: unknown) => {
    if (!compiled) {
      compiled = Compile(schema);
      // Default and Convert walk the whole input (for headers: every header) on each request; a schema of strings
      // without defaults would come out unchanged, so that walk is skipped for it (decided once, here).
      prepare = httpPart !== 'body' && needsPreparation(schema);
    }
    const value = prepare ? Value.Convert(schema, Value.Default(schema, input)) : input;
    const valid = compiled.Check(value);
    if (valid && !(refuseNul && containsNul(value))) return { value };
    const errors = valid ? [] : readable(compiled.Errors(value));
    if (refuseNul) errors.push(...nulErrors(value));
    return { error: errors };
  };
};

const stringTypes = new Set(['string', 'object']);

/** Whether a schema has a default anywhere, or anything but strings (and objects of them) to convert to. */
export function needsPreparation(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.some(needsPreparation);
  if (typeof schema !== 'object' || schema === null) return false;
  const node = schema as Record<string, unknown>;
  if ('default' in node || '$ref' in node) return true;
  if ('const' in node && typeof node.const !== 'string') return true;
  if (Array.isArray(node.enum) && node.enum.some((v) => typeof v !== 'string')) return true;
  const type = node.type;
  if (type !== undefined && !(typeof type === 'string' && stringTypes.has(type))) return true;
  return Object.values(node).some((child) => typeof child === 'object' && child !== null && needsPreparation(child));
}

/**
 * One problem once, in words: TypeBox reports an unknown field both as "schema is false" at the field and as
 * "must not have additional properties" at its object (and once more per branch of a union).
 */
function readable(errors: FastifySchemaValidationError[]): FastifySchemaValidationError[] {
  const seen = new Set<string>();
  const kept: FastifySchemaValidationError[] = [];
  for (const error of errors) {
    if (error.keyword === 'boolean' && error.schemaPath.endsWith('/additionalProperties')) continue;
    const message = describe(error);
    const id = `${error.instancePath}\n${message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    kept.push({ ...error, message });
  }
  return kept;
}

function describe({ keyword, params, message }: FastifySchemaValidationError): string {
  if (keyword === 'additionalProperties') {
    const names = (params.additionalProperties as string[] | undefined) ?? [params.additionalProperty as string];
    return `has unknown field(s): ${names.join(', ')}`;
  }
  if (keyword === 'required') {
    const names = (params.requiredProperties as string[] | undefined) ?? [params.missingProperty as string];
    return `is missing required field(s): ${names.join(', ')}`;
  }
  return message ?? keyword;
}

// The search recurses (no allocation, the common case) this deep; below that it goes on with a stack of its own,
// since a body within the size limit can nest far deeper than the call stack allows.
const maxRecursion = 100;

/** Whether any string, or any field name, in a parsed JSON value holds a NUL. Allocates nothing on a clean value. */
export function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\0');
  if (typeof value !== 'object' || value === null) return false;
  if (depth >= maxRecursion) return nulPaths(value, 1).length > 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (containsNul(value[i], depth + 1)) return true;
    return false;
  }
  for (const key in value) if (key.includes('\0') || containsNul((value as Record<string, unknown>)[key], depth + 1)) return true;
  return false;
}

/** A step from the root: each knows its parent, so a path is written out only for what is reported. */
interface Step {
  key: string;
  parent: Step | undefined;
}

function pointerOf(step: Step | undefined): string {
  const segments: string[] = [];
  for (let at = step; at; at = at.parent) segments.push(at.key.replaceAll('~', '~0').replaceAll('/', '~1').replaceAll('\0', '\\u0000'));
  return segments
    .reverse()
    .map((segment) => `/${segment}`)
    .join('');
}

/** JSON pointers (in document order) of the strings and field names holding a NUL; a field name shows it as `\u0000`. */
const badFieldName = Symbol('a field name holding a NUL');

function nulPaths(root: unknown, limit: number): string[] {
  const found: string[] = [];
  const pending: { value: unknown; at: Step | undefined }[] = [{ value: root, at: undefined }];
  while (pending.length > 0 && found.length < limit) {
    const { value, at } = pending.pop()!;
    if (value === badFieldName || (typeof value === 'string' && value.includes('\0'))) {
      found.push(pointerOf(at));
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) pending.push({ value: value[i], at: { key: String(i), parent: at } });
    } else if (typeof value === 'object' && value !== null) {
      const keys = Object.keys(value);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        pending.push({ value: key.includes('\0') ? badFieldName : (value as Record<string, unknown>)[key], at: { key, parent: at } });
      }
    }
  }
  return found;
}

const nulMessage = 'must not contain the NUL character (U+0000)';

function nulErrors(value: unknown): FastifySchemaValidationError[] {
  return nulPaths(value, 20).map((instancePath) => ({ keyword: 'nul', instancePath, schemaPath: '#', params: {}, message: nulMessage }));
}
