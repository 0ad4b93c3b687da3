/** A project: a team's flags, segments, SDK keys and webhooks, with roles granted to its members (auth). */
export interface Project {
  key: string;
  name: string;
  description: string;
  createdAt: Date;
  updatedAt: Date;
  version: number;
}
