import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { lazyApiDocs } from './api-docs.ts';
import { lazyRequestLogger } from './request-logger.ts';
import { validatorCompiler } from './validation.ts';
import { Registry, Histogram, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '../logging/logger.ts';
import { AppError, problemOf, ProblemSchema, type ErrorCode, type FieldError } from './problem.ts';
import { isTransientInfrastructureError } from '../runtime/transient-errors.ts';

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
  /** A failing non-critical check makes the service `degraded` (still 200): it keeps answering without it. */
  critical: boolean;
}

export interface HttpServerOptions {
  /** Service name: logs, metrics and the OpenAPI document carry it. */
  name: string;
  title: string;
  version?: string;
  logger: Logger;
  bodyLimit: number;
  /** TRUST_PROXY: false, the proxies' addresses or CIDRs (comma-separated), or true. */
  trustProxy: boolean | string;
  readiness?: ReadinessCheck[];
  /**
   * Connections still open this long after the close began are closed, so that a client that keeps one open (an
   * aborted request whose connection undici holds, an event stream, a proxy of one) cannot hold the shutdown;
   * requests in flight have that long to finish. Default 3 s; 1 s where responses are long-lived by design.
   */
  closeLingeringAfterMs?: number;
  /** The registry /metrics serves; made here unless the service registered metrics of its own in one first. */
  metrics?: Registry;
  /** Registers the service's routes. */
  routes: (app: App) => void | Promise<void>;
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

const fastJsonStringify = SerializerSelector();
/**
 * Fastify's response serialisers (fast-json-stringify), each built on its route's first answer of that status
 * instead of all at start-up: building them was a tenth of a service's cold start, most for routes an instance
 * seldom serves. The first answer of a route pays its own (about a millisecond).
 */
const lazySerializers: typeof fastJsonStringify = (externalSchemas, serializerOptions) => {
  const compile = fastJsonStringify(externalSchemas, serializerOptions);
  return (route) => {
    let serialize: ((data: unknown) => string) | undefined;
    return (data: unknown) => (serialize ??= compile(route))(data);
  };
};

/**
 * One HTTP server factory for every service: request ids, problem+json errors, schema validation (that also
 * produces the OpenAPI document at /docs/<service>), /healthz, /readyz, /metrics and an orderly close.
 */
export async function createHttpServer(options: HttpServerOptions): Promise<{ app: App; metrics: Registry; markDraining: () => void }> {
  const app = Fastify<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger>({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit,
    trustProxy: options.trustProxy,
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && requestIdPattern.test(incoming) ? incoming : randomUUID();
    },
    // Keep-alive sockets idle at close are dropped so shutdown does not wait on them; busy ones finish first.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // One line per request is written by our onResponse hook (with the route template), not by fastify.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyRequestLogger,
    // No router limit on a path parameter's length (fastify's default answers 414 past 100 characters, in its own
    // body): each route's schema bounds its parameters and answers in the route's own shape — OFREP's single-flag
    // route a 404 FLAG_NOT_FOUND. Node bounds the whole URL (431 past its header size limit).
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: Number.MAX_SAFE_INTEGER },
    ajv: { plugins: [] },
    schemaController: { compilersFactory: { buildSerializer: lazySerializers } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  // JSON only: a text/plain body would otherwise reach validation as a string and read as a schema error.
  app.removeContentTypeParser('text/plain');
  app.addSchema(ProblemSchema);

  let draining = false;
  const metrics = options.metrics ?? new Registry();
  metrics.setDefaultLabels({ service: options.name });
  collectDefaultMetrics({ register: metrics });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [metrics],
  });

  // Callback hooks (not async): on every request, so no promise and no extra turn of the event loop for them.
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    duration.observe({ method: request.method, route, status_code: reply.statusCode }, reply.elapsedTime / 1000);
    if (reply.statusCode >= 500) request.log.error({ method: request.method, route, status: reply.statusCode }, 'request failed');
    else if (options.logger.isLevelEnabled('debug'))
      request.log.debug({ method: request.method, route, status: reply.statusCode, ms: reply.elapsedTime }, 'request');
    done();
  });

  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    const { code, detail, errors, headers } = toProblem(error);
    const problem = problemOf(code, detail, request.id, errors);
    // The whole error, stack and cause included, goes to the log line (with the request id); never to the body.
    if (problem.status >= 500)
      request.log.error({ err: error }, code === 'SERVICE_UNAVAILABLE' ? 'a dependency is unavailable' : 'unhandled error');
    if (headers) void reply.headers(headers);
    return reply.code(problem.status).type('application/problem+json').send(problem);
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .type('application/problem+json')
      .send(problemOf('NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}`, request.id)),
  );

  lazyApiDocs(app, { name: options.name, title: options.title, version: options.version ?? '0.1.0' });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    if (draining) return reply.code(503).send({ status: 'draining', checks: {} });
    const checks: Record<string, string> = {};
    let status = 'ok' as 'ok' | 'degraded' | 'unavailable';
    await Promise.all(
      (options.readiness ?? []).map(async (c) => {
        try {
          await withTimeout(c.check(), 2000);
          checks[c.name] = 'ok';
        } catch {
          checks[c.name] = 'failing';
          if (c.critical) status = 'unavailable';
          else if (status === 'ok') status = 'degraded';
        }
      }),
    );
    return reply.code(status === 'unavailable' ? 503 : 200).send({ status, checks });
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));

  await app.register(async (scope) => {
    await options.routes(scope);
  });
  const lingering = options.closeLingeringAfterMs ?? 3_000;
  app.addHook('preClose', (done) => {
    setTimeout(() => app.server.closeAllConnections(), lingering).unref();
    done();
  });

  return {
    app,
    metrics,
    markDraining: () => {
      draining = true;
    },
  };
}

/** Seconds a client is told to wait (Retry-After) before trying again when a dependency is unavailable. */
const unavailableRetryAfterSeconds = 5;
const retryLater = { 'retry-after': String(unavailableRetryAfterSeconds) };

function toProblem(error: FastifyError | AppError): {
  code: ErrorCode;
  detail: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
} {
  if (error instanceof AppError) {
    // Every 503 says when to come back, also one a route raised itself (another service not answering).
    const headers = error.code === 'SERVICE_UNAVAILABLE' ? { ...retryLater, ...error.headers } : error.headers;
    return { code: error.code, detail: error.message, ...(error.errors ? { errors: error.errors } : {}), ...(headers ? { headers } : {}) };
  }
  // The database or the cache is away, restarting or out of connections: a retry soon may succeed, so 503, not 500.
  if (isTransientInfrastructureError(error)) {
    return {
      code: 'SERVICE_UNAVAILABLE',
      detail: 'A database or cache this service needs is not answering; try again shortly',
      headers: retryLater,
    };
  }
  if (error.validation) {
    const part = error.validationContext ?? 'request';
    const errors = error.validation.map((v) => ({ path: `${part}${v.instancePath}`, message: v.message ?? v.keyword }));
    return { code: 'VALIDATION_FAILED', detail: `Invalid ${part}: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, errors };
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { code: 'MALFORMED_JSON', detail: 'The body must be a valid, non-empty JSON document' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'PAYLOAD_TOO_LARGE', detail: 'The body is larger than this service accepts' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { code: 'UNSUPPORTED_MEDIA_TYPE', detail: 'Send the body as application/json' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { code: 'VALIDATION_FAILED', detail: 'Content-Length does not match the body' };
  }
  if (error instanceof SyntaxError) return { code: 'MALFORMED_JSON', detail: 'The body must be a valid JSON document' };
  const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status === 429) return { code: 'RATE_LIMITED', detail: 'Too many requests' };
  if (status >= 400 && status < 500) return { code: 'VALIDATION_FAILED', detail: error.message };
  // 5xx: the body never carries internals; the log line (with the request id) does.
  return { code: 'INTERNAL', detail: 'An unexpected error occurred; quote the request id when reporting it' };
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
