import type { Kysely } from 'kysely';
import { addOutboxDeliveryColumns } from '../../../shared/propagation/outbox.ts';

export async function up(db: Kysely<unknown>): Promise<void> {
  await addOutboxDeliveryColumns(db);
}
