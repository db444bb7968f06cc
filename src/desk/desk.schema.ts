// Row types of the operator desk's tables (merged into the Database interface in src/storage/schema.ts).

/** An account an admin locked: it cannot sign in or reset until unlocked (the row is deleted). */
export interface AccountLocksTable {
  account_id: string;
  locked_at: number;
  /** `operator:<id>` */
  locked_by: string;
  reason: string;
}

/** Failed sign-ins of one known account within one hour (`hour` = start of the hour, epoch ms). */
export interface AccountSigninFailuresTable {
  account_id: string;
  hour: number;
  failures: number;
  last_at: number;
  last_ip: string | null;
}

export interface DeskTables {
  account_locks: AccountLocksTable;
  account_signin_failures: AccountSigninFailuresTable;
}
