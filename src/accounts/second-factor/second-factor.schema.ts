// Row types of the second-factor and device tables (merged into Database in src/storage/schema.ts).

export interface SecondFactorsTable {
  account_id: string;
  /** The TOTP secret (base32), sealed with Keyring.seal; never stored or logged in clear. */
  secret_sealed: string;
  created_at: number;
  /** Null while enrolment waits for its first code. */
  enabled_at: number | null;
  /** The last TOTP time step accepted (replay protection). */
  last_step: number | null;
}

export interface RecoveryCodesTable {
  account_id: string;
  code_hmac: string;
  created_at: number;
  used_at: number | null;
}

export interface KnownDevicesTable {
  account_id: string;
  device_key: string;
  /** "Chrome on Windows, network 203.0.113.0/24": for the holder's device list. */
  label: string;
  first_seen_at: number;
  last_seen_at: number;
}

export interface SecondFactorTables {
  second_factors: SecondFactorsTable;
  recovery_codes: RecoveryCodesTable;
  known_devices: KnownDevicesTable;
}
