/**
 * The role switch: one image, one entry point, any service, worker or front end.
 *   node handlers/main.ts <service>        auth | flags | targeting | evaluation | analytics (one service on its port)
 *   node handlers/main.ts <worker>         analytics-worker (consumes the evaluation-events queue), release-worker
 *                                          (scheduled changes, release plans), webhook-worker (sends webhooks)
 *   node handlers/main.ts console          the web console on 8080: serves web/dist, proxies the API prefixes to the
 *                                          services at AUTH_URL … ANALYTICS_URL (no database, no Redis)
 *   node handlers/main.ts migrate [svc…]   apply forward-only migrations, then exit
 *   node handlers/main.ts all-in-one       every service, the workers and the console in one process on embedded defaults
 */
import { ConfigError, loadConfig, requireFor, type Config, type Role } from '../shared/config/config.ts';
import { PortInUseError } from '../shared/runtime/service.ts';
import { startTelemetry } from '../shared/telemetry/telemetry.ts';

function fail(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

const [command = '', ...rest] = process.argv.slice(2);

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}

// Telemetry first, so the instrumentations see the modules they patch when those are loaded below.
const stopTelemetry = await startTelemetry(config, command);
const { createLogger } = await import('../shared/logging/logger.ts');
const logger = createLogger(config.LOG_LEVEL, `togglemaster-${command || 'main'}`);
// A crash is logged as a line like any other error (its stack mapped to our sources) before Node prints it and exits.
process.on('uncaughtExceptionMonitor', (error) => logger.fatal({ err: error }, 'uncaught exception'));
const { services, workers, frontends, isServiceRole, isWorkerRole, isFrontendRole, migrate } = await import('./roles.ts');
const serviceNames = Object.keys(services) as Role[];

try {
  if (command === 'all-in-one') {
    const { startAllInOne } = await import('./all-in-one/start.ts');
    await startAllInOne(config, logger, stopTelemetry);
  } else if (command === 'migrate') {
    const roles = rest.length > 0 ? rest : serviceNames.filter((r) => services[r]?.database);
    const unknown = roles.filter((r) => !isServiceRole(r) || !services[r]?.database);
    if (unknown.length > 0)
      fail(
        `No migrations for: ${unknown.join(', ')} (services with a database: ${serviceNames.filter((r) => services[r]?.database).join(', ')})`,
      );
    requireFor(config, roles as Role[]);
    const { createPool } = await import('../shared/db/database.ts');
    const pool = createPool(config, { logger });
    try {
      logger.info({ applied: await migrate(pool, roles as Role[]) }, 'migrations applied');
    } finally {
      await pool.end();
    }
  } else if (isServiceRole(command)) {
    const { startRole } = await import('./start-role.ts');
    await startRole(command, config, logger, stopTelemetry);
  } else if (isWorkerRole(command) || isFrontendRole(command)) {
    const { startStandalone } = await import('./start-role.ts');
    await startStandalone(command, config, logger, stopTelemetry);
  } else {
    fail(
      `Usage: node handlers/main.ts <${[...serviceNames, ...Object.keys(workers), ...Object.keys(frontends), 'migrate', 'all-in-one'].join(' | ')}>`,
    );
  }
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  // Someone starting a second copy by mistake reads a sentence, not a JSON stack trace.
  if (error instanceof PortInUseError) fail(error.message, 1);
  logger.fatal({ err: error }, 'failed to start');
  process.exit(1);
}
