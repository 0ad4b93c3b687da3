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
  return (input: unknown) => {
    const value = httpPart === 'body' ? input : Value.Convert(schema, Value.Default(schema, input));
    if (compiled.Check(value)) return { value };
    return { error: compiled.Errors(value) as unknown as FastifySchemaValidationError[] };
  };
};
