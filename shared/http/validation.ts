import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';

/**
 * TypeBox validation for every request part. Query strings, params and headers arrive as strings: they get their
 * defaults and are converted to the schema's types. A JSON body is taken as sent: no coercion, no defaults, no
 * fields dropped, so `"true"` is not a boolean and an unknown field is an error.
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const compiled = Compile(schema);
  // Default and Convert walk the whole input (for headers: every header) on each request; a schema of strings
  // without defaults would come out unchanged, so that walk is skipped for it (decided once, here).
  const prepare = httpPart !== 'body' && needsPreparation(schema);
  return (input: unknown) => {
    const value = prepare ? Value.Convert(schema, Value.Default(schema, input)) : input;
    if (compiled.Check(value)) return { value };
    return { error: compiled.Errors(value) as unknown as FastifySchemaValidationError[] };
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
