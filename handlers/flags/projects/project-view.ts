import type { Static } from 'typebox';
import type { ProjectSchema } from '../../../shared/contracts/flags-api.ts';
import type { UserRole } from '../../../shared/http/authenticate.ts';
import type { Project } from './project.ts';

/** The API's document of a project, with the caller's role in it. */
export const projectView = ({ version: _, ...p }: Project, role: UserRole | undefined): Static<typeof ProjectSchema> => ({
  ...p,
  createdAt: p.createdAt.toISOString(),
  updatedAt: p.updatedAt.toISOString(),
  role: role ?? null,
});
