// `resetguard dkim keygen` makes a key pair and prints the TXT record to publish; `resetguard dkim check`
// asks DNS whether the published record matches the configured key (exit 0 match, 1 not, 2 DNS unreachable).
import { Resolver } from 'node:dns/promises';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config.js';
import { checkDkimRecord, generateDkimKey, zoneFileLine } from '../notices/dkim/dkim-check.js';
import { DkimConfigError, dkimRecordName, dkimRecordValue, parseDkimEnv } from '../notices/dkim/dkim-key.js';
import { messageIdDomainFor } from '../notices/outbox.store.js';

function defaultSelector(now = new Date()): string {
  return `rg${now.toISOString().slice(0, 7).replace('-', '')}`;
}

export function registerDkimCommand(program: Command): void {
  const dkim = program.command('dkim').description('DKIM signing of notices: make a key, check its DNS record');

  dkim
    .command('keygen')
    .description('write a new DKIM key pair and print the DNS TXT record to publish')
    .option('--selector <selector>', 'the DKIM selector (default: rg<year><month>)')
    .option('--domain <domain>', 'the signing domain (default: RESETGUARD_DKIM_DOMAIN, else the RESETGUARD_MAIL_FROM domain)')
    .option('--algorithm <algorithm>', 'rsa (2048 bits) or ed25519', 'rsa')
    .option('--out <dir>', 'where to write <selector>.private.pem (default: <data dir>/dkim)')
    .action((opts: { selector?: string; domain?: string; algorithm: string; out?: string }) => {
      const config = loadConfig();
      if (opts.algorithm !== 'rsa' && opts.algorithm !== 'ed25519') throw new ConfigError('--algorithm must be rsa or ed25519');
      const selector = opts.selector ?? defaultSelector();
      const domain = opts.domain ?? process.env.RESETGUARD_DKIM_DOMAIN ?? messageIdDomainFor(config);
      const pem = generateDkimKey(opts.algorithm);
      try {
        // The same checks as at start-up, so a selector or domain with spaces is refused before writing.
        parseDkimEnv({ RESETGUARD_DKIM_DOMAIN: domain, RESETGUARD_DKIM_SELECTOR: selector, RESETGUARD_DKIM_PRIVATE_KEY: pem });
      } catch (err) {
        throw err instanceof DkimConfigError ? new ConfigError(err.message.replace('RESETGUARD_DKIM_DOMAIN', '--domain').replace('RESETGUARD_DKIM_SELECTOR', '--selector')) : err;
      }
      const dir = resolve(opts.out ?? join(config.dataDir, 'dkim'));
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${selector}.private.pem`);
      if (existsSync(file)) throw new Error(`${file} exists already; choose another --selector (a new selector lets the old record stay published while mail signed with it is in transit)`);
      writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600);
      const name = dkimRecordName({ domain, selector });
      process.stdout.write(
        `Private key written to ${file} (mode 0600). Keep it secret.\n\n` +
          `1. Publish this DNS TXT record:\n\n${zoneFileLine(name, dkimRecordValue(pem))}\n\n` +
          `2. Then set:\n\nRESETGUARD_DKIM_DOMAIN=${domain}\nRESETGUARD_DKIM_SELECTOR=${selector}\nRESETGUARD_DKIM_PRIVATE_KEY=${file}\n\n` +
          `3. Check the record once DNS has it: resetguard dkim check\n`,
      );
    });

  dkim
    .command('check')
    .description('look up the DKIM TXT record in DNS and say whether it matches the configured key')
    .action(async () => {
      const config = loadConfig();
      if (!config.dkim) throw new ConfigError('DKIM is not configured: set RESETGUARD_DKIM_DOMAIN, RESETGUARD_DKIM_SELECTOR and RESETGUARD_DKIM_PRIVATE_KEY (resetguard dkim keygen makes a key)');
      const resolver = new Resolver({ timeout: 5_000, tries: 2 });
      const result = await checkDkimRecord(config.dkim, (name) => resolver.resolveTxt(name));
      process.stdout.write(describeCheck(result));
      process.exitCode = result.status === 'match' ? 0 : result.status === 'dns_unreachable' ? 2 : 1;
    });
}

export function describeCheck(result: Awaited<ReturnType<typeof checkDkimRecord>>): string {
  switch (result.status) {
    case 'match':
      return `OK: ${result.name} publishes the public key of the configured private key.\n`;
    case 'dns_unreachable':
      return `Cannot check: DNS could not be reached while looking up ${result.name} (${result.error}). Check this machine's resolver or network, then try again.\n`;
    case 'missing':
      return `No DKIM record at ${result.name}. Publish:\n${zoneFileLine(result.name, result.expected)}\n`;
    case 'mismatch':
      return `The record at ${result.name} does not match the configured key.\nPublished: ${result.found.join('\n           ')}\nExpected:  ${result.expected}\n`;
  }
}
