#!/usr/bin/env node
// The CLI entry (package.json bin.resetguard). Each command lives in its own file.
import { Command } from 'commander';
import { ConfigError } from '../config.js';
import { StorageError } from '../storage/storage-errors.js';
import { registerAuditCommand } from './audit.js';
import { registerBreachCommand } from './breach.js';
import { registerCampaignCommand } from './campaign.js';
import { registerDemoCommand } from './demo.js';
import { registerDkimCommand } from './dkim.js';
import { registerImportUsersCommand } from './import-users.js';
import { registerMigrateCommand } from './migrate.js';
import { registerOperatorCommand } from './operator.js';
import { registerPwnedCommand } from './pwned.js';
import { registerServeCommands } from './serve.js';

const program = new Command()
  .name('resetguard')
  .description('Account security: sign-in, self-service reset, guarded forced resets.')
  .showHelpAfterError();

registerServeCommands(program);
registerMigrateCommand(program);
registerOperatorCommand(program);
registerImportUsersCommand(program);
registerBreachCommand(program);
registerPwnedCommand(program);
registerAuditCommand(program);
registerCampaignCommand(program);
registerDemoCommand(program);
registerDkimCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`resetguard: configuration error: ${err.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  // A storage failure: the sentence and the driver's words (the operator needs "ECONNREFUSED 10.0.0.5:5432").
  if (err instanceof StorageError) {
    process.stderr.write(`resetguard: ${err.diagnostic}\n`);
    process.exit(1);
  }
  process.stderr.write(`resetguard: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
