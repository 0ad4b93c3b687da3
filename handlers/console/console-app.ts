import { stat } from 'node:fs/promises';
import { extname, isAbsolute, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import httpProxy from '@fastify/http-proxy';
import { serviceUrlVariables, type Config, type Role } from '../../shared/config/config.ts';
import { problemOf } from '../../shared/http/problem.ts';
import { createHttpServer, type App } from '../../shared/http/server.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import { listen, type StartedService } from '../../shared/runtime/service.ts';

/** The services the console talks to, by name. */
export type Upstream = Role;

/** Where each service answers, as the configuration says (AUTH_URL, FLAGS_URL, …, loopback by default). */
export function upstreamsOf(config: Pick<Config, (typeof serviceUrlVariables)[Upstream]>): Record<Upstream, string> {
  return Object.fromEntries(Object.entries(serviceUrlVariables).map(([role, variable]) => [role, config[variable]])) as Record<
    Upstream,
    string
  >;
}

/**
 * The API prefixes the console proxies, and to which service: the same path layout the production Ingress gives,
 * so the browser talks to one origin (no CORS) and the access token never leaves it.
 */
export const proxiedPrefixes: readonly { prefix: string; upstream: Upstream }[] = [
  { prefix: '/auth', upstream: 'auth' },
  { prefix: '/flags', upstream: 'flags' },
  { prefix: '/webhooks', upstream: 'flags' },
  { prefix: '/targeting', upstream: 'targeting' },
  { prefix: '/evaluate', upstream: 'evaluation' },
  { prefix: '/ofrep', upstream: 'evaluation' },
  { prefix: '/analytics', upstream: 'analytics' },
];

/** Where the single-page app lives: its client routes are under this path, so they never collide with an API path. */
export const consoleBase = '/console/';

/** `web/dist`, where `npm run build:web` writes the console. */
export const defaultDistDir = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/**
 * A strict policy for the console's pages: nothing inline, nothing from another origin, no framing. The app's
 * scripts and styles are files under /console/assets/, and every API call goes to this origin.
 */
export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const securityHeaders = {
  'content-security-policy': contentSecurityPolicy,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
} as const;

const immutable = 'public, max-age=31536000, immutable';

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** The file under `root` a request path names, or undefined when the path tries to leave it. */
function fileUnder(root: string, relative: string): string | undefined {
  if (relative.includes('\0') || isAbsolute(relative)) return undefined;
  const path = normalize(join(root, relative));
  return path.startsWith(root.endsWith(sep) ? root : root + sep) ? path : undefined;
}

export interface ConsoleDeps {
  config: Pick<Config, 'BODY_LIMIT_BYTES' | 'TRUST_PROXY' | 'HOST'>;
  logger: Logger;
  upstreams: Record<Upstream, string>;
  /** The built app (default `web/dist`); read per request, so a build made after start is served. */
  distDir?: string;
}

/**
 * The console server: serves the built single-page app under /console/ and proxies the API prefixes to the
 * services. It is built by the same HTTP kit as every service, so it has /healthz, /readyz, /metrics and
 * problem+json errors too.
 */
export async function buildConsoleApp(deps: ConsoleDeps) {
  const distDir = normalize(deps.distDir ?? defaultDistDir);
  const root = distDir.endsWith(sep) ? distDir : distDir + sep;
  const indexFile = join(root, 'index.html');

  return createHttpServer({
    name: 'console',
    title: 'ToggleMaster console',
    // It proxies OFREP event streams, which never end by themselves: they must not hold its shutdown.
    closeLingeringAfterMs: 1_000,
    logger: deps.logger,
    bodyLimit: deps.config.BODY_LIMIT_BYTES,
    trustProxy: deps.config.TRUST_PROXY,
    readiness: [
      // Not critical: the API prefixes still answer without the built app, and the pages say how to build it.
      {
        name: 'console-build',
        critical: false,
        check: async () => {
          if (!(await isFile(indexFile))) throw new Error('web/dist is missing');
        },
      },
    ],
    routes: async (app: App) => {
      for (const { prefix, upstream } of proxiedPrefixes) {
        const service = upstream;
        await app.register(httpProxy, {
          upstream: deps.upstreams[upstream],
          prefix,
          rewritePrefix: prefix,
          http2: false,
          replyOptions: {
            rewriteRequestHeaders: (request, headers) => ({
              ...headers,
              // One request id from the browser to the service's log line.
              'x-request-id': request.id,
              'x-forwarded-for': [headers['x-forwarded-for'], request.ip].filter(Boolean).join(', '),
              'x-forwarded-proto': request.protocol,
              'x-forwarded-host': request.host,
            }),
            onError: (reply, { error }) => {
              reply.log.warn({ err: error, upstream: service }, 'upstream did not answer');
              void reply
                .code(503)
                .type('application/problem+json')
                .send(problemOf('SERVICE_UNAVAILABLE', `The ${service} service is not answering; try again in a moment`, reply.request.id));
            },
          },
        });
      }

      await app.register(fastifyStatic, { root, serve: false });

      const notBuilt = (request: FastifyRequest, reply: FastifyReply) =>
        reply
          .code(503)
          .headers({ ...securityHeaders, 'cache-control': 'no-store', 'retry-after': '30' })
          .type('application/problem+json')
          .send(
            problemOf(
              'SERVICE_UNAVAILABLE',
              'The console is not built: run `npm run build:web` (or `npm install`, which builds it), then reload this page',
              request.id,
            ),
          );

      const serveConsole = async (request: FastifyRequest<{ Params: { '*'?: string } }>, reply: FastifyReply) => {
        if (!(await isFile(indexFile))) return notBuilt(request, reply);
        const relative = request.params['*'] ?? '';
        void reply.headers(securityHeaders);
        if (extname(relative) !== '') {
          // A file: hashed assets are cached for good, anything else (favicon) for an hour.
          const file = fileUnder(root, relative);
          if (file === undefined || !(await isFile(file))) {
            return reply
              .code(404)
              .type('application/problem+json')
              .send(problemOf('NOT_FOUND', `No file ${consoleBase}${relative}`, request.id));
          }
          const hashed = relative.startsWith('assets/');
          void reply.header('cache-control', hashed ? immutable : 'public, max-age=3600');
          return reply.sendFile(file.slice(root.length), root, { cacheControl: false });
        }
        // A client route: the app's shell, never cached, so a new build is picked up at once.
        void reply.header('cache-control', 'no-cache');
        return reply.sendFile('index.html', root, { cacheControl: false });
      };

      app.get('/', { schema: { hide: true } }, (_request, reply) => reply.redirect(consoleBase, 302));
      app.get('/console', { schema: { hide: true } }, serveConsole);
      app.get('/console/*', { schema: { hide: true } }, serveConsole);
    },
  });
}

/**
 * Starts the console server on its port, in front of the services the configuration names: the `console` role
 * (its own Deployment) and the all-in-one process both start it here. No database, no Redis.
 */
export async function startConsole(deps: { config: Config; logger: Logger; port: number; distDir?: string }): Promise<StartedService> {
  const served = await buildConsoleApp({ ...deps, upstreams: upstreamsOf(deps.config), logger: deps.logger.child({ service: 'console' }) });
  return listen('console', served, { config: deps.config, port: deps.port });
}
