import type { AnalyticsStore } from '../../analytics/analytics-store.ts';
import type { GuardrailData } from './guardrail-evaluator.ts';

/**
 * The guardrails' figures, from the analytics' exact sums. The release worker reads the analytics table (read-only)
 * rather than asking the analytics service: it decides and writes the rollback with the plan in its own database.
 */
export function guardrailDataOf(analytics: Pick<AnalyticsStore, 'metricRows' | 'countRows'>): GuardrailData {
  return {
    async metricByVariant({ environment, flagKey, metric, from, to }) {
      const arms = new Map<string, { count: number; sum: number; sumOfSquares: number }>();
      for (const row of await analytics.metricRows({ environment, flagKey, metric, from, to })) {
        const arm = arms.get(row.variant) ?? { count: 0, sum: 0, sumOfSquares: 0 };
        arms.set(row.variant, { count: arm.count + row.count, sum: arm.sum + row.sum, sumOfSquares: arm.sumOfSquares + row.sumOfSquares });
      }
      return arms;
    },
    async splitByVariant({ environment, flagKey, from, to }) {
      const served = new Map<string, number>();
      for (const row of await analytics.countRows({ environment, flagKey, from, to }))
        if (row.reason === 'SPLIT' && row.ruleId === null && row.variant !== null && row.minute >= from && row.minute <= to)
          served.set(row.variant, (served.get(row.variant) ?? 0) + row.count);
      return served;
    },
  };
}
