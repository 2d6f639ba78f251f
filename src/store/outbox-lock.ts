/**
 * Every PostgreSQL transaction that may append to the outbox holds this shared advisory lock
 * (key: this number and the schema) from its first statement, before it has a transaction
 * id. Outbox readers wait only for running transactions that hold it (src/events/event-log.ts).
 */
export const OUTBOX_WRITER_LOCK_CLASS = 726238900;
export const OUTBOX_WRITER_LOCK_KEY = 'hashtext(current_schema()) & 2147483647';
