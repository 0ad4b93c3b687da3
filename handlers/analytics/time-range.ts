import { AppError } from '../../shared/http/problem.ts';
import type { Granularity } from '../../shared/contracts/analytics-api.ts';
import { maxRangeMs } from './aggregate.ts';

/** A validated [from, to] in epoch ms: from before to, not longer than the granularity answers, defaults near now. */
export function timeRange(
  input: { from?: string | undefined; to?: string | undefined },
  granularity: Granularity,
  now: number,
  defaultSpanMs: number,
): { from: number; to: number } {
  const to = input.to === undefined ? now : Date.parse(input.to);
  const from = input.from === undefined ? to - defaultSpanMs : Date.parse(input.from);
  if (Number.isNaN(from) || Number.isNaN(to)) throw new AppError('VALIDATION_FAILED', 'from and to must be ISO-8601 date-times');
  if (from >= to)
    throw new AppError('VALIDATION_FAILED', '"from" must be before "to"', {
      errors: [{ path: 'querystring/from', message: 'must be before to' }],
    });
  if (to - from > maxRangeMs[granularity]) {
    throw new AppError(
      'VALIDATION_FAILED',
      `A ${granularity} granularity answers at most ${maxRangeMs[granularity] / 86_400_000} day(s); choose a coarser granularity or a shorter range`,
    );
  }
  return { from, to };
}
