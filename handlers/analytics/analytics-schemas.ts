import { Type } from 'typebox';
import { FlagKey } from '../../shared/contracts/flag-model.ts';

export const Environment = Type.String({ minLength: 1, maxLength: 64 });
export const Instant = Type.String({ format: 'date-time', description: 'ISO-8601 date-time' });
export { FlagKey };
