// Row types of this capability's tables (merged into the Database interface in src/storage/schema.ts).
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface WebhookTables {}
