import type { Static } from 'typebox';
import type { EnvironmentSchema } from '../../../shared/contracts/flags-api.ts';
import type { Environment } from './environment.ts';

export const environmentView = (e: Environment): Static<typeof EnvironmentSchema> => ({
  ...e,
  createdAt: e.createdAt.toISOString(),
  updatedAt: e.updatedAt.toISOString(),
});
