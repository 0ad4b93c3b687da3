/**
 * Tells a transient infrastructure failure — PostgreSQL or Redis away, restarting, out of connections, or the
 * network to them broken — from every other error (a bug, a constraint, bad input). The first kind is worth a
 * retry a little later: an HTTP request answers it 503 with Retry-After, a background loop retries it quietly.
 */

/** Socket errors of Node (and of fetch, as the cause of its "fetch failed"): the peer or the path to it is gone. */
const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
]);

/**
 * PostgreSQL SQLSTATEs: class 08 (connection exception), class 53 (insufficient resources: too many connections,
 * out of memory, disk full), and 57P01–57P03 (the server is shutting down, crashed, or not yet accepting connections).
 */
const sqlStateClasses = ['08', '53'];
const sqlStates = new Set(['57P01', '57P02', '57P03']);

/** Errors that carry no code, by the start of their message. */
const messagePrefixes = [
  // pg: the connection died under a query, or before it; pg-pool: no connection within connectionTimeoutMillis.
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Query read timeout',
  // ioredis: the connection closed with the command in flight; the offline queue is off and Redis is away.
  'Connection is closed',
  "Stream isn't writeable and enableOfflineQueue options is false",
  "Cluster isn't ready and enableOfflineQueue options is false",
  'None of startup nodes is available',
  'Command timed out',
  'Socket timeout',
  // Redis replies while it loads its data, fails over, or has a cluster slot without a master.
  'LOADING ',
  'READONLY ',
  'MASTERDOWN ',
  'CLUSTERDOWN ',
  'TRYAGAIN ',
];

/** ioredis gives up on a command after maxRetriesPerRequest reconnections (MaxRetriesPerRequestError). */
const errorNames = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);

/**
 * Whether `error` is a transient failure of the infrastructure (database, cache, network), looked for in the
 * error itself, its `cause` chain and the errors of an AggregateError (Node's connection attempts to each address).
 */
export function isTransientInfrastructureError(error: unknown): boolean {
  return matches(error, 0);
}

function matches(error: unknown, depth: number): boolean {
  if (typeof error !== 'object' || error === null || depth > 5) return false;
  const { code, name, message, cause, errors } = error as {
    code?: unknown;
    name?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (
    typeof code === 'string' &&
    (networkCodes.has(code) || sqlStates.has(code) || (code.length === 5 && sqlStateClasses.includes(code.slice(0, 2))))
  )
    return true;
  if (typeof name === 'string' && errorNames.has(name)) return true;
  if (typeof message === 'string' && messagePrefixes.some((prefix) => message.startsWith(prefix))) return true;
  if (Array.isArray(errors) && errors.some((inner) => matches(inner, depth + 1))) return true;
  return matches(cause, depth + 1);
}
