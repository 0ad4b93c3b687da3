import { Type } from 'typebox';

/** The parts of an audit entry every service's history answers alike (flags, targeting). */
export const AuditActorSchema = Type.Object({ userId: Type.String(), email: Type.String() });

/** One field-level change: its JSON pointer, and its value before and after (shared/audit/diff.ts). */
export const AuditChangeSchema = Type.Object({ path: Type.String(), before: Type.Unknown(), after: Type.Unknown() });
