import type { Kysely } from 'kysely';
import { addOutboxDeliveryColumns } from '../../../shared/db/outbox.ts';

export async function up(db: Kysely<unknown>): Promise<void> {
  await addOutboxDeliveryColumns(db);
}
