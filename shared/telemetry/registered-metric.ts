import type { Metric, Registry } from 'prom-client';

/**
 * The metric of this name in the registry, made by `create` the first time: several components of one service
 * (two replicas, three jobs) share a metric and tell their series apart by a label, and a registry refuses a
 * second metric of the same name.
 */
export function registeredMetric<M extends Metric>(registry: Registry, name: string, create: (registers: Registry[]) => M): M {
  // The registry returns the Metric it holds under this name: the one `create` made for it earlier.
  return (registry.getSingleMetric(name) as M | undefined) ?? create([registry]);
}
