/** An environment every flag has a state in: a key (fixed: SDK keys, rules and states name it), and its settings. */
export interface Environment {
  key: string;
  name: string;
  /** Its place in lists (0 first). */
  position: number;
  /** Production-like: a change there is a change request, applied once it has `requiredApprovals` approvals. */
  protected: boolean;
  requiredApprovals: number;
  createdAt: Date;
  updatedAt: Date;
  version: number;
}

/** The environments in their order: what every reader of them needs (a flag's states, rules, SDK keys). */
export interface EnvironmentSource {
  list(): Promise<Environment[]>;
}

/** A name for a seeded environment: its key, capitalised ("production" → "Production"). */
export const nameOf = (key: string) => key.charAt(0).toUpperCase() + key.slice(1).replace(/[-_]/g, ' ');

/** An environment as ENVIRONMENTS names it: in that order, unprotected, named after its key. */
export const seededEnvironment = (key: string, position: number, at: Date): Environment => ({
  key,
  name: nameOf(key),
  position,
  protected: false,
  requiredApprovals: 1,
  createdAt: at,
  updatedAt: at,
  version: 1,
});
