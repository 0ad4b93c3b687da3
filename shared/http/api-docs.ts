import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawServerDefault,
  type RouteOptions,
} from 'fastify';

/** The services' Fastify instance (server.ts's App, named here so that this module does not import server.ts). */
type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

/** The OpenAPI document's fixed part, the same for every service but its title and version. */
function swaggerOptions(title: string, version: string) {
  return {
    openapi: {
      openapi: '3.1.0',
      info: { title, version },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
    },
    refResolver: {
      buildLocalReference: (json: Record<string, unknown>, _baseUri: unknown, _fragment: string, i: number) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  } as const;
}

/** Headers light-my-request answers that the real reply sets itself. */
const ownHeaders = new Set(['content-length', 'transfer-encoding', 'connection', 'date', 'keep-alive']);

/**
 * The OpenAPI document and its UI at /docs/<service>, built on the first request for them. @fastify/swagger and
 * @fastify/swagger-ui (with @fastify/static, yaml, glob and the ref resolver) cost a service about a fifth of its
 * start-up, and the documentation is read by people, seldom and never on a probe's path. The routes are recorded as
 * they are registered (onRoute, cheap); the first /docs request replays them, schemas and all, into a private
 * Fastify instance that holds the two plugins with the options they always had, and every /docs request is answered
 * from that instance (inject): the same document, the same UI and assets, at the same paths.
 */
export function lazyApiDocs(app: App, options: { name: string; title: string; version: string }): void {
  const prefix = `/docs/${options.name}`;
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith(prefix)) routes.push(route);
  });

  let docs: Promise<FastifyInstance> | undefined;
  async function build(): Promise<FastifyInstance> {
    const [{ default: swagger }, { default: swaggerUi }] = await Promise.all([import('@fastify/swagger'), import('@fastify/swagger-ui')]);
    const instance = Fastify({ routerOptions: { ignoreTrailingSlash: true, maxParamLength: Number.MAX_SAFE_INTEGER } });
    // Nothing is validated or serialised there: its routes exist only to be described.
    instance.setValidatorCompiler(() => () => true);
    instance.setSerializerCompiler(() => (data) => JSON.stringify(data));
    for (const schema of Object.values(app.getSchemas())) instance.addSchema(schema);
    await instance.register(swagger, swaggerOptions(options.title, options.version));
    await instance.register(swaggerUi, { routePrefix: prefix });
    const described = () => undefined;
    // Replayed as registered: HEAD routes were recorded too, so none is added twice.
    for (const route of routes) instance.route({ ...route, handler: described, exposeHeadRoute: false });
    await instance.ready();
    return instance;
  }

  app.addHook('onClose', async () => {
    if (docs) await (await docs).close();
  });
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    docs ??= build().catch((error: unknown) => {
      docs = undefined;
      throw error;
    });
    const answer = await (await docs).inject({ method: request.method as 'GET' | 'HEAD', url: request.url, headers: request.headers });
    // An unknown asset: the service's own 404, in its problem+json shape.
    if (answer.statusCode === 404) return reply.callNotFound();
    for (const [name, value] of Object.entries(answer.headers))
      if (!ownHeaders.has(name) && value !== undefined) void reply.header(name, value);
    return reply.code(answer.statusCode).send(answer.rawPayload);
  };
  app.get(prefix, { schema: { hide: true } }, handler);
  app.get(`${prefix}/*`, { schema: { hide: true } }, handler);
}
