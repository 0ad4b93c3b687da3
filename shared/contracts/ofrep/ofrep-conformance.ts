import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

/**
 * Holds an HTTP answer of an OFREP operation to OFREP's own OpenAPI document (openapi.yaml beside this file, 0.3.0):
 * the status must be one the operation lists, and the body must be what that status describes — its JSON schema
 * when it has content, nothing at all when it has none (401, 403, 429, 304). For tests.
 */

export type OfrepOperation = 'evaluateFlag' | 'evaluateFlagsBulk';

export interface OfrepHttpAnswer {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

interface ResponseObject {
  content?: Record<string, { schema?: { $ref?: string } }>;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, { operationId?: string; responses: Record<string, ResponseObject> }>>;
  components: { schemas: Record<string, Record<string, unknown>> };
}

const documentId = 'https://togglemaster.local/ofrep/openapi.yaml';
const document = parse(readFileSync(new URL('openapi.yaml', import.meta.url), 'utf8')) as OpenApiDocument;
readAsMeant(document);

const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
addFormats.default(ajv);
// The document's own keywords (and OpenAPI's `example`) are not JSON Schema: known, and ignored.
ajv.addVocabulary(['openapi', 'servers', 'info', 'security', 'tags', 'paths', 'components', 'example']);
ajv.addSchema(document, documentId);

/**
 * 0.3.0 cannot be met as written: in `evaluationSuccess`, the value type is a `oneOf` of six schemas of which
 * `codeDefaultFlag` (an object with no constraint) matches every answer, and an integer value matches both
 * `integerFlag` and `floatFlag`, so every answer that has a value matches two of them and fails. The helper reads it
 * as meant: `codeDefaultFlag` is an answer without `value` (its description says so), and the value must be of at
 * least one of the types. Anything else in the document is taken as written. Throws if the document is not shaped
 * as expected, so a new version is looked at again rather than patched blindly.
 */
function readAsMeant(doc: OpenApiDocument): void {
  const schemas = doc.components.schemas;
  const codeDefault = schemas.codeDefaultFlag;
  const success = schemas.evaluationSuccess as { allOf?: Record<string, unknown>[] } | undefined;
  const valueTypes = success?.allOf?.[1];
  if (!codeDefault || codeDefault.not !== undefined || !valueTypes || !Array.isArray(valueTypes.oneOf) || valueTypes.oneOf.length !== 6) {
    throw new Error('openapi.yaml is not the OFREP 0.3.0 this helper knows: review readAsMeant()');
  }
  codeDefault.not = { required: ['value'] };
  valueTypes.anyOf = valueTypes.oneOf;
  delete valueTypes.oneOf;
}

const validators = new Map<string, ValidateFunction>();

function validatorFor(ref: string): ValidateFunction {
  let validate = validators.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: `${documentId}${ref}` });
    validators.set(ref, validate);
  }
  return validate;
}

function responsesOf(operation: OfrepOperation): Record<string, ResponseObject> {
  for (const methods of Object.values(document.paths)) {
    for (const op of Object.values(methods)) if (op.operationId === operation) return op.responses;
  }
  throw new Error(`no operation ${operation} in openapi.yaml`);
}

/** What is wrong with an answer, by the OFREP document; empty when it conforms. */
export function ofrepProblems(operation: OfrepOperation, answer: OfrepHttpAnswer): string[] {
  const response = responsesOf(operation)[String(answer.statusCode)];
  if (!response) return [`${operation} does not answer ${answer.statusCode}`];
  if (!response.content)
    return answer.body === ''
      ? []
      : [`${operation} ${answer.statusCode} has no body in OFREP, got ${JSON.stringify(answer.body.slice(0, 200))}`];
  const header = answer.headers['content-type'];
  const contentType = typeof header === 'string' ? header : '';
  const media = Object.keys(response.content).find((type) => contentType.split(';')[0]?.trim() === type);
  if (!media) return [`${operation} ${answer.statusCode} must be ${Object.keys(response.content).join(' or ')}, got "${contentType}"`];
  const ref = response.content[media]?.schema?.$ref;
  if (!ref) throw new Error(`${operation} ${answer.statusCode}: only $ref schemas are expected in openapi.yaml`);
  let body: unknown;
  try {
    body = JSON.parse(answer.body) as unknown;
  } catch {
    return [`${operation} ${answer.statusCode} body is not JSON`];
  }
  const validate = validatorFor(ref);
  if (validate(body)) return [];
  return (validate.errors ?? []).map(
    (e) =>
      `${operation} ${answer.statusCode} ${ref.split('/').pop()}${e.instancePath} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`,
  );
}

/** Throws, listing what is wrong, unless the answer is one the OFREP document describes. */
export function assertOfrep(operation: OfrepOperation, answer: OfrepHttpAnswer): void {
  const problems = ofrepProblems(operation, answer);
  if (problems.length > 0) throw new Error(`Not an OFREP 0.3.0 answer:\n  ${problems.join('\n  ')}\nbody: ${answer.body.slice(0, 500)}`);
}

/**
 * Throws unless a block of an OFREP event stream is an `sseEvent` of the document (its fields; `retry` an integer)
 * whose `data` is an `sseEventData` (`contentSchema` only annotates in JSON Schema, so the data is checked apart).
 */
export function assertOfrepEvent(block: { id?: string; event?: string; data?: string; retry?: number }): void {
  const event = Object.fromEntries(
    Object.entries({ id: block.id, event: block.event, data: block.data, retry: block.retry }).filter(([, v]) => v !== undefined),
  );
  const problems: string[] = [];
  const validateEvent = validatorFor('#/components/schemas/sseEvent');
  if (!validateEvent(event))
    problems.push(...(validateEvent.errors ?? []).map((e) => `sseEvent${e.instancePath} ${e.message ?? e.keyword}`));
  let data: unknown;
  try {
    data = JSON.parse(block.data ?? '') as unknown;
  } catch {
    problems.push('sseEvent data is not JSON');
  }
  const validateData = validatorFor('#/components/schemas/sseEventData');
  if (data !== undefined && !validateData(data))
    problems.push(...(validateData.errors ?? []).map((e) => `sseEventData${e.instancePath} ${e.message ?? e.keyword}`));
  if (problems.length > 0) throw new Error(`Not an OFREP 0.3.0 event:\n  ${problems.join('\n  ')}\nevent: ${JSON.stringify(block)}`);
}
