import { Type } from 'typebox';
import { FlagKey } from '../../shared/contracts/flag-model.ts';
import { ProjectKey } from '../../shared/contracts/project-model.ts';

export const Environment = Type.String({ minLength: 1, maxLength: 64 });
export const Instant = Type.String({ format: 'date-time', description: 'ISO-8601 date-time' });
export { FlagKey };
/** `?project=`: over many flags, the project whose flags are counted (the default project when absent); with a flag, its project must be this one. */
export const ProjectParam = Type.Optional(ProjectKey);
