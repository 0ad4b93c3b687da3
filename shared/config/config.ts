import { Type, type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import platformNames from '../contracts/platform-names.json' with { type: 'json' };

/**
 * The whole process environment, parsed once at start-up with one schema. Every role (service or worker) reads the
 * same schema; what a role additionally needs is checked by `requireFor`. A bad or missing variable stops the
 * process with a message naming each one.
 */
const Slug = Type.String({ pattern: '^[a-z0-9]+(?:[-_][a-z0-9]+)*$', maxLength: 64 });
const Url = Type.String({ pattern: '^[a-z][a-z0-9+.-]*://.+' });
const Port = Type.Integer({ minimum: 1, maximum: 65535 });
/** An e-mail domain, as SELF_REGISTRATION_DOMAINS lists them (`example.com`, no `@`). */
const EmailDomain = Type.String({
  pattern: '^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$',
});

export const ConfigSchema = Type.Object({
  NODE_ENV: Type.Enum(['development', 'production', 'test'], { default: 'development' }),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  HOST: Type.String({ default: '0.0.0.0', minLength: 1 }),
  /** Overrides the role's port from platform-names.json (only meaningful when one process runs one role). */
  PORT: Type.Optional(Port),
  /**
   * Whose X-Forwarded-For to believe: `false`; the load balancer's addresses or CIDRs (comma-separated; the client
   * is then the last address they did not add, which a client cannot forge); or `true`, every hop — only where
   * nothing but a proxy that overwrites the header can reach the service.
   */
  TRUST_PROXY: Type.Union([Type.Boolean(), Type.String({ pattern: '^[0-9A-Za-z:./]+(\\s*,\\s*[0-9A-Za-z:./]+)*$' })], { default: false }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 10_485_760, default: 262_144 }),
  /**
   * Web pages allowed to call the evaluation service from a browser (CORS): `*`, or origins separated by commas
   * (`https://shop.example.com,https://admin.example.com`). Unset: none (the all-in-one process allows any).
   * Credentials are never allowed: SDK keys travel in a header, not in cookies.
   */
  CORS_ALLOWED_ORIGINS: Type.Optional(
    Type.String({ pattern: '^(\\*|https?://[^\\s,/]+(\\s*,\\s*https?://[^\\s,/]+)*)$', description: '* or comma-separated origins' }),
  ),
  /** OFREP event streams one evaluation instance holds at most (0: none, and the bulk answer advertises none). */
  EVENT_STREAMS_MAX: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 20_000 }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 0, maximum: 120_000, default: 20_000 }),

  /** PostgreSQL of the role's own database; when unset, pg's standard PGHOST/PGUSER/PGPASSWORD/PGDATABASE apply. */
  DATABASE_URL: Type.Optional(Url),
  DATABASE_POOL_MAX: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
  DATABASE_SSL: Type.Enum(['off', 'require', 'verify-full'], { default: 'off' }),
  /** Redis (ElastiCache in production). Unset means an in-process cache: fine for one process, not for a fleet. */
  REDIS_URL: Type.Optional(Url),
  REDIS_PASSWORD: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_KEY_PREFIX: Type.String({ default: 'tm:' }),

  /** The environments of the first start: the flags service seeds its empty environments table from them (the truth after that). */
  ENVIRONMENTS: Type.Array(Slug, { minItems: 1, maxItems: 50, uniqueItems: true, default: ['development', 'production'] }),

  AUTH_URL: Url,
  /** Where targeting reads a flag (its variants, for rules and /targeting/match), and where the console sends /flags. */
  FLAGS_URL: Url,
  /** Where the flags service asks which rules still serve a variant it would remove, and the console sends /targeting. */
  TARGETING_URL: Url,
  /** Where the console sends /evaluate and /ofrep (the evaluation service). */
  EVALUATION_URL: Url,
  /** Where the console sends /analytics (the analytics service). */
  ANALYTICS_URL: Url,
  JWT_ISSUER: Type.String({ default: 'togglemaster', minLength: 1 }),
  JWT_AUDIENCE: Type.String({ default: 'togglemaster', minLength: 1 }),
  ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, maximum: 86_400, default: 900 }),
  /** PKCS#8 PEM of the ES256 signing key (auth only). Required in production; generated per process otherwise. */
  AUTH_JWT_PRIVATE_KEY: Type.Optional(Type.String({ pattern: '-----BEGIN PRIVATE KEY-----' })),
  ADMIN_EMAIL: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
  ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 12, maxLength: 256 })),
  /** Failed sign-ins to one account from one address per 15 minutes; past them that address is refused for it (429). */
  LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS: Type.Integer({ minimum: 1, default: 5, description: 'per 15 minutes' }),
  /** Failed sign-ins to one account from all addresses per 15 minutes; past them sign-ins to it are slowed, never refused. */
  LOGIN_MAX_FAILURES_PER_ACCOUNT: Type.Integer({ minimum: 1, default: 10, description: 'per 15 minutes' }),
  LOGIN_MAX_ATTEMPTS_PER_ADDRESS: Type.Integer({ minimum: 1, default: 30, description: 'per minute' }),
  /**
   * Whether anyone may create an account with POST /auth/register (always a viewer). `off` by default: people join
   * through an admin's invitation. The all-in-one demo process turns it on unless set.
   */
  SELF_REGISTRATION: Type.Enum(['off', 'on'], { default: 'off' }),
  /** With SELF_REGISTRATION=on: the e-mail domains that may register (comma-separated, exact match); empty: any. */
  SELF_REGISTRATION_DOMAINS: Type.Array(EmailDomain, { maxItems: 100, uniqueItems: true, default: [] }),
  /** How long an invitation link works, in hours. */
  INVITATION_TTL_HOURS: Type.Integer({ minimum: 1, maximum: 720, default: 72 }),
  /**
   * The console's public origin (`https://flags.example.com`): invitation links are `<CONSOLE_URL>/console/…`.
   * Unset: auth answers them as paths, which the console completes with its own origin.
   */
  CONSOLE_URL: Type.Optional(Type.String({ pattern: '^https?://[^/\\s?#]+/?$', description: 'an origin, without a path' })),

  /** How evaluation events travel to the analytics worker: SQS on AWS, BullMQ on Redis elsewhere, or not at all. */
  EVENTS_TRANSPORT: Type.Enum(['sqs', 'bullmq', 'off'], { default: 'off' }),
  SQS_QUEUE_URL: Type.Optional(Url),
  /** Where the worker sends a message it can never process (the redrive policy covers messages that keep failing). */
  SQS_DLQ_URL: Type.Optional(Url),
  AWS_REGION: Type.String({ default: platformNames.awsRegion, minLength: 1 }),
  /** The AWS SDK reads these itself; set them to use a local stand-in instead of AWS. */
  AWS_ENDPOINT_URL_SQS: Type.Optional(Url),
  AWS_ENDPOINT_URL_DYNAMODB: Type.Optional(Url),
  BULLMQ_QUEUE: Type.String({ default: 'evaluation-events', minLength: 1 }),
  DYNAMODB_TABLE: Type.String({ default: platformNames.dynamodb.analyticsTable, minLength: 3 }),
  /** Mixed into the hash of targeting keys in events; set a secret value per deployment. */
  EVENTS_KEY_SALT: Type.String({ default: 'togglemaster', minLength: 1 }),
  EVENTS_RETENTION_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 30 }),
  /** Raw events held in memory at most while the queue is unreachable; counts are kept beyond it in compact form. */
  EVENTS_BUFFER_MAX: Type.Integer({ minimum: 100, maximum: 10_000_000, default: 100_000 }),
  /**
   * How often the evaluation service sends its events: ticks on multiples of it, so 4 s (dividing a minute) puts a
   * message in one minute — one counter item — and keeps counts visible within 5 s (docs/analytics.md, ADR 15).
   * Longer halves SQS requests per million evaluations at a low rate, at the price of later counts.
   */
  EVENTS_FLUSH_INTERVAL_MS: Type.Integer({ minimum: 50, maximum: 60_000, default: 4_000 }),
  /** How long a received SQS message stays hidden while the worker has it (extended by a heartbeat while it works). */
  WORKER_VISIBILITY_TIMEOUT_SECONDS: Type.Integer({ minimum: 2, maximum: 43_200, default: 60 }),
  /** Messages the worker processes at once. */
  WORKER_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 100, default: 4 }),

  /** How often the release worker looks at the guardrails of running release plans (reads the analytics table). */
  RELEASE_GUARDRAIL_CHECK_MS: Type.Integer({ minimum: 1_000, maximum: 600_000, default: 10_000 }),

  /**
   * Webhook targets: refused when the host resolves to a loopback, link-local, private or otherwise internal address
   * (so the service cannot be made to probe the network it runs in), unless the address is in one of these networks
   * (CIDRs or single addresses, comma-separated: `10.20.0.0/16,127.0.0.1`).
   */
  WEBHOOK_ALLOWED_NETWORKS: Type.Array(Type.String({ pattern: '^[0-9a-fA-F:.]+(/[0-9]{1,3})?$' }), { maxItems: 100, default: [] }),
  /** When set, the only hosts a webhook may target (`hooks.slack.com`, or `*.example.com` for its subdomains). */
  WEBHOOK_ALLOWED_HOSTS: Type.Optional(
    Type.Array(Type.String({ pattern: '^(\\*\\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$' }), {
      minItems: 1,
      maxItems: 100,
    }),
  ),
  /** Deliveries the webhook worker sends at once (each to a different webhook or flag: one flag's are sent in order). */
  WEBHOOK_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 200, default: 16 }),
  /** A failed delivery is retried after this, doubled with each failure up to WEBHOOK_RETRY_MAX_MS. */
  WEBHOOK_RETRY_BASE_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 5_000 }),
  WEBHOOK_RETRY_MAX_MS: Type.Integer({ minimum: 100, maximum: 86_400_000, default: 600_000 }),
  /** A delivery still failing this long after its event is given up (marked failed; it can be sent again by hand). */
  WEBHOOK_GIVE_UP_AFTER_HOURS: Type.Integer({ minimum: 1, maximum: 720, default: 72 }),
  /** How long a receiver has to answer. */
  WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 500, maximum: 60_000, default: 10_000 }),
  /** Days the delivery log is kept. */
  WEBHOOK_LOG_RETENTION_DAYS: Type.Integer({ minimum: 1, maximum: 365, default: 30 }),

  OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(Url),
  OTEL_SERVICE_NAME: Type.Optional(Type.String({ minLength: 1 })),

  /** Apply the role's database migrations at start (the all-in-one process always does; production runs `migrate`). */
  MIGRATE_ON_START: Type.Boolean({ default: false }),
  /** Added to every service's port in the all-in-one process, to run a second one beside the first. */
  PORT_OFFSET: Type.Integer({ minimum: 0, maximum: 50_000, default: 0 }),
  /** Where the all-in-one process keeps its embedded database. */
  DATA_DIR: Type.String({ default: '.togglemaster', minLength: 1 }),
  SEED_DEMO: Type.Boolean({ default: true }),
});

export type Config = Static<typeof ConfigSchema>;
export const knownVariables = Object.keys(ConfigSchema.properties) as (keyof Config)[];

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export type Role = keyof typeof platformNames.services;

/** The variable that says where each service answers; unset, the service's port on loopback. */
export const serviceUrlVariables = {
  auth: 'AUTH_URL',
  flags: 'FLAGS_URL',
  targeting: 'TARGETING_URL',
  evaluation: 'EVALUATION_URL',
  analytics: 'ANALYTICS_URL',
} as const satisfies Record<Role, keyof Config>;

/** Comma-separated lists and booleans arrive as strings; everything else is converted by the schema. */
function preprocess(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const key of knownVariables) {
    const value = env[key];
    if (value === undefined || value === '') continue;
    const schema: TSchema = ConfigSchema.properties[key];
    // A boolean, or a union that takes one (TRUST_PROXY: a boolean or addresses), reads "true"/"false"/"1"/"0" as one.
    const takesBoolean = Type.IsBoolean(schema) || (Type.IsUnion(schema) && schema.anyOf.some((member) => Type.IsBoolean(member)));
    if (Type.IsArray(schema))
      raw[key] = value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else if (takesBoolean)
      raw[key] = ({ true: true, '1': true, false: false, '0': false } as Record<string, boolean>)[value.toLowerCase()] ?? value;
    else raw[key] = value;
  }
  for (const [role, variable] of Object.entries(serviceUrlVariables) as [Role, string][])
    raw[variable] ??= `http://127.0.0.1:${platformNames.services[role].port}`;
  return raw;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const value = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, preprocess(env)));
  if (!Value.Check(ConfigSchema, value)) {
    const problems = Value.Errors(ConfigSchema, value).map((e) => {
      const name = e.instancePath.split('/')[1] ?? e.instancePath;
      // Never echo a value back: some of these are secrets.
      return name ? `${name}: ${e.message}` : e.message;
    });
    throw new ConfigError([...new Set(problems)]);
  }
  return value;
}

/** What each role needs beyond the schema's defaults, checked after parsing so every problem is named at once. */
export function requireFor(config: Config, roles: readonly Role[], options: { embedded?: boolean } = {}): void {
  const problems: string[] = [];
  const production = config.NODE_ENV === 'production';
  const usesDatabase = roles.some((r) => r === 'auth' || r === 'flags' || r === 'targeting');
  if (usesDatabase && !options.embedded && !config.DATABASE_URL && !process.env.PGHOST) {
    problems.push('DATABASE_URL: required (or PGHOST with PGUSER/PGPASSWORD/PGDATABASE)');
  }
  if (production && roles.includes('auth') && !config.AUTH_JWT_PRIVATE_KEY) {
    problems.push('AUTH_JWT_PRIVATE_KEY: required in production (PKCS#8 PEM of an ES256 key)');
  }
  if (production && !options.embedded && !config.REDIS_URL) {
    problems.push('REDIS_URL: required in production (rate limits and caches must be shared by all replicas)');
  }
  if ((config.ADMIN_EMAIL === undefined) !== (config.ADMIN_PASSWORD === undefined)) {
    problems.push('ADMIN_EMAIL and ADMIN_PASSWORD: set both or neither');
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

export type WorkerRole = keyof typeof platformNames.workers;
/** Roles that serve the web console (no database, no Redis): the browser's way into the services. */
export type FrontendRole = keyof typeof platformNames.frontends;

const rolePorts = Object.fromEntries(
  [platformNames.services, platformNames.workers, platformNames.frontends].flatMap((group) =>
    Object.entries(group).map(([role, { port }]) => [role, port]),
  ),
) as Record<Role | WorkerRole | FrontendRole, number>;

export function portOf(role: Role | WorkerRole | FrontendRole, config: Pick<Config, 'PORT' | 'PORT_OFFSET'>, single: boolean): number {
  const port = rolePorts[role];
  if (single) return config.PORT ?? port;
  return port + config.PORT_OFFSET;
}
