import type { Metric, Registry } from 'prom-client';

/**
 * The metric of `config.name` in the registry, made the first time: several components of one service (two
 * replicas, three jobs) share a metric and tell their series apart by a label, and a registry refuses a second
 * metric of the same name.
 */
export function registeredMetric<Config extends { name: string }, M extends Metric>(
  registry: Registry,
  Kind: new (config: Config & { registers: Registry[] }) => M,
  config: Config,
): M {
  // The registry holds under this name the metric this function made earlier, of the same kind.
  return (registry.getSingleMetric(config.name) as M | undefined) ?? new Kind({ ...config, registers: [registry] });
}
