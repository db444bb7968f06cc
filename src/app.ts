// The one place everything is wired: stores, then services, then transports (HTTP, worker).
import type { FastifyInstance } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import { AccountsService } from './accounts/accounts.service.js';
import { AccountsStore } from './accounts/accounts.store.js';
import { accountsRoutes } from './accounts/accounts.routes.js';
import { PasswordChangeWriter } from './accounts/password-change.js';
import { createPasswordHasher, type PasswordHasher } from './accounts/password-hasher.js';
import { SessionsService } from './accounts/sessions.service.js';
import { SessionsStore } from './accounts/sessions.store.js';
import { SigninThrottle } from './accounts/signin-throttle.js';
import type { Config } from './config.js';
import { createBlocklist } from './detection/pwned.js';
import { buildHttpServer } from './http/server.js';
import { systemRoutes } from './http/system.routes.js';
import { Housekeeper } from './limits/housekeeper.js';
import { RateCounterStore } from './limits/rate-counters.store.js';
import { BackgroundQueue } from './lib/background.js';
import { systemClock, type Clock } from './lib/clock.js';
import { createLogger } from './lib/logger.js';
import { Metrics } from './lib/metrics.js';
import { Keyring } from './lib/secrets.js';
import { devMailRoutes } from './notices/dev-mail.routes.js';
import { createMailTransport } from './notices/mail-transport.js';
import { createNoticeWorker, type NoticeWorker } from './notices/notice-worker.js';
import { NoticeVerificationService } from './notices/notice-verification.service.js';
import { noticeVerificationRoutes } from './notices/notice-verification.routes.js';
import { NoticeOutbox, messageIdDomainFor } from './notices/outbox.store.js';
import { OperatorsService } from './operators/operators.service.js';
import { OperatorsStore } from './operators/operators.store.js';
import { RecoveryService } from './recovery/recovery.service.js';
import { recoveryRoutes } from './recovery/recovery.routes.js';
import { ResetTokensStore } from './recovery/reset-tokens.store.js';
import { SettingsService } from './settings/settings.service.js';
import { SettingsStore } from './settings/settings.store.js';
import { settingsRoutes } from './settings/settings.routes.js';
import { resetPagesRoutes } from './web/reset-pages.routes.js';
import { verifyPagesRoutes } from './web/verify-pages.routes.js';
import { ensureSchema, openDatabase, type Db } from './storage/database.js';
import { migrateToLatest } from './storage/migrate.js';

export interface AppOptions {
  clock?: Clock;
  /** Where logs go (tests capture them); stdout by default. */
  logDestination?: DestinationStream;
  /** Apply migrations before starting (serve does; worker and tests may not need to). */
  migrate?: boolean;
  /** Use this database instead of opening config.database (tests share one). */
  db?: Db;
  hasher?: PasswordHasher;
  defaultMetrics?: boolean;
}

export interface App {
  config: Config;
  db: Db;
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
  keyring: Keyring;
  http: FastifyInstance;
  services: {
    accounts: AccountsService;
    sessions: SessionsService;
    recovery: RecoveryService;
    operators: OperatorsService;
    settings: SettingsService;
  };
  outbox: NoticeOutbox;
  background: BackgroundQueue;
  /** The outbox worker; started by `serve` unless --no-worker, or by `worker`. */
  worker: NoticeWorker;
  housekeeper: Housekeeper;
  close(): Promise<void>;
}

export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const clock = options.clock ?? systemClock;
  const logger = createLogger(config.logLevel, options.logDestination);
  const metrics = new Metrics({ defaultMetrics: options.defaultMetrics ?? false });
  const ownsDb = !options.db;
  if (ownsDb) await ensureSchema(config.database);
  const db = options.db ?? openDatabase(config.database);
  if (options.migrate ?? true) await migrateToLatest(db);
  const keyring = new Keyring(config.secrets);

  // stores
  const accountsStore = new AccountsStore(db.db);
  const sessionsStore = new SessionsStore(db.db);
  const tokensStore = new ResetTokensStore(db.db);
  const rates = new RateCounterStore(db.db);
  const operatorsStore = new OperatorsStore(db.db);
  const settingsStore = new SettingsStore(db.db);
  const outbox = new NoticeOutbox({ keyring, clock, messageIdDomain: messageIdDomainFor(config), metrics });

  // services
  const hasher = options.hasher ?? createPasswordHasher();
  const blocklist = createBlocklist(config.pwned);
  const throttle = new SigninThrottle(db.db);
  const settings = new SettingsService(db.db, settingsStore, clock);
  const sessions = new SessionsService(sessionsStore, clock);
  const passwordChange = new PasswordChangeWriter(accountsStore, sessionsStore, tokensStore, outbox, clock);
  const background = new BackgroundQueue(4, 10_000, (err) => logger.error({ err }, 'background task failed'));
  const common = { db: db.db, accounts: accountsStore, throttle, hasher, blocklist, passwordChange, clock, metrics, passwordMinLength: config.passwordMinLength };
  const accounts = new AccountsService({ ...common, sessions });
  const recovery = new RecoveryService({ ...common, tokens: tokensStore, rates, settings, outbox, keyring, background });
  const operators = new OperatorsService(operatorsStore, clock);
  const verification = new NoticeVerificationService(db.db, rates, clock);

  // transports
  const transport = createMailTransport(config, db);
  const worker = createNoticeWorker({ db, config, keyring, transport, clock, logger, metrics });
  const housekeeper = new Housekeeper(db.db, rates, clock, logger);
  const http = await buildHttpServer({
    config,
    logger,
    metrics,
    routes: [
      systemRoutes({ db, metrics }),
      accountsRoutes({ accounts, sessions }),
      recoveryRoutes({ recovery }),
      settingsRoutes({ settings, operators }),
      devMailRoutes({ db, config }),
      noticeVerificationRoutes({ verification }),
      resetPagesRoutes({ recovery }),
      verifyPagesRoutes({ verification }),
    ],
  });

  return {
    config,
    db,
    logger,
    metrics,
    clock,
    keyring,
    http,
    services: { accounts, sessions, recovery, operators, settings },
    outbox,
    background,
    worker,
    housekeeper,
    async close() {
      housekeeper.stop();
      await http.close();
      await background.drain();
      await worker.stop();
      await transport.close();
      if (ownsDb) await db.close();
    },
  };
}
