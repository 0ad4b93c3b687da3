/**
 * Starts unleash-server (the peer of the HTTP benchmarks) from this folder, against the local PostgreSQL, in a
 * process of its own. Everything comes from the environment the benchmark sets:
 *   UNLEASH_BENCH_PORT, UNLEASH_BENCH_DATABASE (its own database on 127.0.0.1:5432, user postgres),
 *   INIT_ADMIN_API_TOKENS, INIT_FRONTEND_API_TOKENS (Unleash's own variables).
 * Production-like: NODE_ENV=production, request logging off, log level warn. Its SDK rate limits (20,000 requests
 * per minute per IP by default) are raised through the `rateLimiting` option so the load generator is not refused.
 * Version check and telemetry are off, and a trip-wire refuses any connection that is not to loopback.
 */
import net from 'node:net';

let refused = 0;
const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  const first = args[0];
  let host = 'localhost';
  if (typeof first === 'object' && first !== null) host = typeof first.host === 'string' ? first.host : typeof first.path === 'string' ? 'ipc' : 'localhost';
  else if (typeof args[1] === 'string') host = args[1];
  if (!['127.0.0.1', 'localhost', '::1', 'ipc'].includes(host)) {
    refused += 1;
    process.stderr.write(`benchmark trip-wire: unleash-server tried to reach ${host}; refused (${refused})\n`);
    throw new Error(`benchmark trip-wire: ${host} is not loopback`);
  }
  return originalConnect.apply(this, args);
};

const { start, LogLevel } = await import('unleash-server');
const unlimited = 100_000_000;
const unleash = await start({
  db: { host: '127.0.0.1', port: 5432, user: 'postgres', password: '', database: process.env.UNLEASH_BENCH_DATABASE, ssl: false, pool: { min: 0, max: 10 } },
  server: { host: '127.0.0.1', port: Number(process.env.UNLEASH_BENCH_PORT), enableRequestLogger: false, gracefulShutdownEnable: true },
  logLevel: LogLevel.warn,
  versionCheck: { enable: false },
  telemetry: false,
  rateLimiting: { sdkApiMaxPerMinute: unlimited, tokenAuthenticationMaxPerMinute: unlimited },
  metricsRateLimiting: {
    clientMetricsMaxPerMinute: unlimited,
    clientRegisterMaxPerMinute: unlimited,
    frontendRegisterMaxPerMinute: unlimited,
    frontendMetricsMaxPerMinute: unlimited,
  },
});
process.stdout.write(`${JSON.stringify({ ready: true, port: Number(process.env.UNLEASH_BENCH_PORT) })}\n`);
process.once('SIGTERM', () => {
  void unleash.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
