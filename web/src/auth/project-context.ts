import { createContext } from 'react';
import type { Project } from '../api/types.ts';

/** The console's current project and the projects the signed-in person holds a role in (ProjectProvider keeps them). */
export interface ProjectState {
  /** The current project's key: the URL's `?project=`, else the one remembered, else the default project. */
  current: string;
  /** The projects the person holds a role in, each with that role; undefined until (or unless) they arrived. */
  projects: Project[] | undefined;
  error: unknown;
  /** Ask for the projects again (after a create, a rename, a delete, a change of members). */
  reload: () => void;
  /** Make `project` current and go where a switch leads (the same list in it, or the project's list of a resource). */
  switchTo: (project: string) => void;
  /** Make `project` current without leaving the page (a page of one resource of that project was opened). */
  follow: (project: string) => void;
}

export const ProjectContext = createContext<ProjectState | undefined>(undefined);

/** The project a page of one resource belongs to: inside it, permissions are the person's role in that project. */
export const ResourceProjectContext = createContext<string | undefined>(undefined);
