import { Type } from 'typebox';

/** The project that held everything before there were projects, and that the original paths still mean. */
export const defaultProject = 'default';

export const ProjectKey = Type.String({
  pattern: '^[a-z0-9]+(?:[-_][a-z0-9]+)*$',
  minLength: 1,
  maxLength: 64,
  description: 'A project: lower-case letters, digits, - and _',
});

/** The `?project=` of lists and creates: which project the request is about; the default project when absent. */
export const ProjectQuery = Type.String({ ...ProjectKey, default: defaultProject });

/** The project of a flag (or segment) document; documents written before projects have none: the default project. */
export const projectOf = (document: { project?: string | undefined }): string => document.project ?? defaultProject;
