// The one place everything is wired: stores, then services, then transports (HTTP, worker).
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import { createSignupGate } from './accounts/signup-gate.js';
import { AccountsService } from './accounts/accounts.service.js';
import { AccountsStore } from './accounts/accounts.store.js';
import { accountsRoutes } from './accounts/accounts.routes.js';
import { PasswordChangeWriter } from './accounts/password-change.js';
import { createPasswordHasher, type PasswordHasher } from './accounts/password-hasher.js';
import { HashAdmission, admittedHasher, registerHashAdmissionGauges } from './accounts/hash-admission.js';
import { SecurityPhraseService } from './accounts/security-phrase/security-phrase.service.js';
import { securityPhraseRoutes } from './accounts/security-phrase/security-phrase.routes.js';
import { SecurityPhraseStore } from './accounts/security-phrase/security-phrase.store.js';
import { SessionsService } from './accounts/sessions.service.js';
import { SessionsStore } from './accounts/sessions.store.js';
import { SigninThrottle } from './accounts/signin-throttle.js';
import { DevicesStore } from './accounts/devices/devices.store.js';
import { NewDeviceWatch } from './accounts/devices/new-device.service.js';
import { NotMeService } from './accounts/devices/not-me.service.js';
import { notMeRoutes } from './accounts/devices/not-me.routes.js';
import { HolderReports } from './accounts/holder-report.js';
import { AccountDeletionService } from './accounts/lifecycle/account-deletion.service.js';
import { EmailChangeService } from './accounts/lifecycle/email-change.service.js';
import { holderProof } from './accounts/lifecycle/holder-proof.js';
import { lifecycleRoutes } from './accounts/lifecycle/lifecycle.routes.js';
import type { HolderResetPort } from './accounts/holder-reset-port.js';
import { SecondFactorService } from './accounts/second-factor/second-factor.service.js';
import { SecondFactorStore } from './accounts/second-factor/second-factor.store.js';
import { secondFactorRoutes } from './accounts/second-factor/second-factor.routes.js';
import type { Config } from './config.js';
import { BreachDumpChunksStore } from './detection/breach-dumps/breach-dump-chunks.store.js';
import { DumpSpool } from './detection/breach-dumps/breach-dump-spool.js';
import { BreachDumpWorker } from './detection/breach-dumps/breach-dump-worker.js';
import { breachDumpsRoutes } from './detection/breach-dumps/breach-dumps.routes.js';
import { BreachDumpsService, MAX_UPLOAD_BYTES } from './detection/breach-dumps/breach-dumps.service.js';
import { BreachDumpsStore } from './detection/breach-dumps/breach-dumps.store.js';
import { findingsRoutes } from './detection/findings/findings.routes.js';
import { FindingsService } from './detection/findings/findings.service.js';
import { FindingsStore } from './detection/findings/findings.store.js';
import { createSignInWatch } from './detection/signin-watch.js';
import { createBlocklist } from './detection/pwned/pwned.js';
import { buildHttpServer } from './http/server.js';
import { systemRoutes } from './system/system.routes.js';
import { Housekeeper } from './limits/housekeeper.js';
import { SigninFailuresStore } from './limits/signin-failures.store.js';
import { StuffingStore } from './detection/stuffing/stuffing-store.js';
import { AuditCheckpoints } from './audit/audit-checkpoints.js';
import { AuditKeys } from './audit/audit-hash.js';
import { RateCounterStore } from './limits/rate-counters.store.js';
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
import { operatorsRoutes } from './operators/operators.routes.js';
import { AccountSearchStore } from './desk/account-search.store.js';
import { DeskService } from './desk/desk.service.js';
import { DeskStore } from './desk/desk.store.js';
import { deskRoutes } from './desk/desk.routes.js';
import { TIMELINE_SOURCES } from './desk/timeline-sources.js';
import { AccountTimelineStore } from './desk/timeline.store.js';
import { OperatorSessionsService } from './operators/operator-sessions.service.js';
import { OperatorSessionsStore } from './operators/operator-sessions.store.js';
import { consoleAuthRoutes } from './web/console/console-auth.routes.js';
import { dashboardRoutes } from './web/console/dashboard.routes.js';
import { campaignNewRoutes } from './web/console/campaign-new.routes.js';
import { campaignPagesRoutes } from './web/console/campaign-pages.routes.js';
import { campaignRevertRoutes } from './web/console/campaign-revert.routes.js';
import { CampaignTimelineStore } from './campaigns/campaign-timeline.store.js';
import { findingsPagesRoutes } from './web/console/findings-pages.routes.js';
import { breachDumpsPagesRoutes } from './web/console/breach-dumps-pages.routes.js';
import { auditPagesRoutes } from './web/console/audit-pages.routes.js';
import { webhooksPagesRoutes } from './web/console/webhooks-pages.routes.js';
import { settingsPagesRoutes } from './web/console/settings-pages.routes.js';
import { accountsPagesRoutes } from './web/console/accounts-pages.routes.js';
import { operatorsPagesRoutes } from './web/console/operators-pages.routes.js';
import { createConsoleKit } from './web/console/console-kit.js';
import { RecoveryService } from './recovery/recovery.service.js';
import { ResetRequestQueue, type QueuedRequest } from './recovery/reset-request-queue.js';
import { AccountTokensStore } from './accounts/account-tokens.store.js';
import { EmailVerificationService } from './accounts/signup/email-verification.service.js';
import { SignupService } from './accounts/signup/signup.service.js';
import { signupRoutes } from './accounts/signup/signup.routes.js';
import { recoveryRoutes } from './recovery/recovery.routes.js';
import { ResetTokensStore } from './recovery/reset-tokens.store.js';
import { SettingsService } from './settings/settings.service.js';
import { SettingsStore } from './settings/settings.store.js';
import { settingsRoutes } from './settings/settings.routes.js';
import { resetPagesRoutes } from './web/reset-pages.routes.js';
import { verifyPagesRoutes } from './web/verify-pages.routes.js';
import { verifyEmailPagesRoutes } from './web/verify-email-pages.routes.js';
import { accountPagesRoutes } from './web/account-pages.routes.js';
import { accountLifecyclePagesRoutes, lifecycleSections } from './web/account-lifecycle-pages.routes.js';
import { joinSections, securityPhrasePagesRoutes, securityPhraseSections } from './web/security-phrase-pages.js';
import { secondFactorPagesRoutes, securitySections } from './web/second-factor-pages.routes.js';
import { signinPagesRoutes } from './web/signin-pages.routes.js';
import { createWebKit } from './web/web-kit.js';
import { pageErrorRenderer } from './web/page-errors.js';
import { AccountNoticesStore } from './notices/account-notices.store.js';
import { AuditLog } from './audit/audit.service.js';
import { auditRoutes } from './audit/audit.routes.js';
import { createWebhookWorker, type WebhookWorker } from './webhooks/webhook-worker.js';
import { webhooksRoutes } from './webhooks/webhooks.routes.js';
import { Webhooks } from './webhooks/webhooks.service.js';
import { CampaignReverter } from './campaigns/campaign-revert.js';
import { CampaignRunner } from './campaigns/campaign-runner.js';
import { campaignsRoutes } from './campaigns/campaigns.routes.js';
import { CampaignsService } from './campaigns/campaigns.service.js';
import { CampaignsStore } from './campaigns/campaigns.store.js';
import { forcedResetAdapter, holderResetAdapter } from './campaigns/forced-reset-adapter.js';
import { ForcedResetStore } from './campaigns/guard/forced-reset.store.js';
import { CampaignTargetsStore } from './campaigns/campaign-targets.store.js';
import { CampaignWavesStore } from './campaigns/campaign-waves.store.js';
import { forcedResetLinks } from './campaigns/guard/forced-reset-links.js';
import { Guard } from './campaigns/guard/guard.service.js';
import { observeGuardDecisions } from './campaigns/guard/guard-metrics.js';
import { NoticeFeedbackService } from './notices/notice-feedback.service.js';
import { noticeBouncesRoutes } from './notices/notice-bounces.routes.js';
import { noticeFeedbackRoutes } from './notices/notice-feedback.routes.js';
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
    audit: AuditLog;
    webhooks: Webhooks;
    guard: Guard;
    campaigns: CampaignsService;
    reverter: CampaignReverter;
    feedback: NoticeFeedbackService;
    findings: FindingsService;
    breachDumps: BreachDumpsService;
    desk: DeskService;
    securityPhrases: SecurityPhraseService;
    signup: SignupService;
    emailVerification: EmailVerificationService;
    emailChanges: EmailChangeService;
    accountDeletion: AccountDeletionService;
  };
  outbox: NoticeOutbox;
  /** Reset requests waiting for a worker; started with the outbox worker. */
  resetRequests: ResetRequestQueue;
  /** The outbox worker; started by `serve` unless --no-worker, or by `worker`. */
  worker: NoticeWorker;
  housekeeper: Housekeeper;
  /** Signs and publishes checkpoints of the audit log's head; started alongside `worker`. */
  auditCheckpoints: AuditCheckpoints;
  /** Webhook deliveries; started alongside `worker`. */
  webhookWorker: WebhookWorker;
  /** Advances running campaigns wave by wave; started alongside `worker`. */
  campaignRunner: CampaignRunner;
  /** Imports uploaded breach dumps; started alongside `worker`. */
  breachDumpWorker: BreachDumpWorker;
  /** Starts every background loop (outbox, reset requests, webhooks, campaigns, housekeeping). */
  startBackground(): void;
  close(): Promise<void>;
}

export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const clock = options.clock ?? systemClock;
  const logger = createLogger(config.logLevel, options.logDestination);
  const metrics = new Metrics({ defaultMetrics: options.defaultMetrics ?? false });
  const ownsDb = !options.db;
  if (ownsDb) await ensureSchema(config.database);
  const db = options.db ?? openDatabase(config.database);
  if (options.migrate ?? true) await migrateToLatest(db, { secrets: config.secrets });
  const keyring = new Keyring(config.secrets);

  // stores
  const accountsStore = new AccountsStore(db.db);
  const sessionsStore = new SessionsStore(db.db);
  const tokensStore = new ResetTokensStore(db.db);
  const rates = new RateCounterStore(db.db);
  const operatorsStore = new OperatorsStore(db.db);
  const settingsStore = new SettingsStore(db.db);
  const outbox = new NoticeOutbox({ keyring, clock, messageIdDomain: messageIdDomainFor(config), dialect: db.dialect, metrics });

  // services
  // Every password hash, on every path, is admitted through one bound (503 `overloaded` past it).
  const hashAdmission = new HashAdmission(
    { concurrency: config.loadShedding.hashConcurrency, queue: config.loadShedding.hashQueue, queueTimeoutMs: config.loadShedding.hashQueueTimeoutMs },
    (reason) => metrics.requestsShed.inc({ reason }),
  );
  registerHashAdmissionGauges(hashAdmission, metrics.registry);
  const hasher = admittedHasher(options.hasher ?? createPasswordHasher(), hashAdmission);
  const blocklist = createBlocklist(config.pwned, { ...config.pwnedOptions, logger, registry: metrics.registry });
  const throttle = new SigninThrottle(db.db);
  const auditKeys = new AuditKeys(config.secrets);
  const audit = new AuditLog({ db, clock, keys: auditKeys });
  const settings = new SettingsService(db.db, settingsStore, clock, audit);
  const sessions = new SessionsService(sessionsStore, clock);
  const webhooks = new Webhooks({ db, keyring, clock, audit, allowPrivate: config.webhookAllowPrivate });
  const passwordChange = new PasswordChangeWriter(accountsStore, sessionsStore, tokensStore, outbox, webhooks, clock);
  const common = { db: db.db, accounts: accountsStore, throttle, hasher, blocklist, passwordChange, clock, metrics, passwordMinLength: config.passwordMinLength };
  // Counts the guard's verdicts, trips and kill-switch changes as they are audited (guard-metrics.ts).
  const recorders = observeGuardDecisions({ audit, events: webhooks }, metrics);
  const campaignTargets = new CampaignTargetsStore(db.dialect);
  const campaignsStore = new CampaignsStore(db.db, db.dialect);
  const guard = new Guard({ db, forcedResets: new ForcedResetStore(db.dialect, messageIdDomainFor(config)), targets: campaignTargets, campaigns: campaignsStore, settings, recorders, clock });
  const findings = new FindingsService(db, new FindingsStore(), webhooks, metrics, clock);
  const campaigns = new CampaignsService({ db, store: campaignsStore, guard, settings, recorders, clock, findings: findings.store });
  // The sign-in detectors record findings, and ask for forced resets through detection's port.
  const resets = forcedResetAdapter(campaigns, guard);
  const signInWatch = createSignInWatch({ db, settings, audit, blocklist, clock, logger, registry: metrics.registry, findings, resets });
  const devicesStore = new DevicesStore(db.db);
  const devices = new NewDeviceWatch({ db: db.db, store: devicesStore, keyring, outbox, settings, clock });
  const deskStore = new DeskStore(db.db);
  const signupGate = createSignupGate({ rates, settings, clock, logger });
  const accounts = new AccountsService({ ...common, sessions, signInWatch, secondFactor: () => secondFactor, devices, signupGate, failureLog: deskStore });
  const secondFactorStore = new SecondFactorStore(db.db);
  const secondFactor: SecondFactorService = new SecondFactorService({
    db: db.db,
    store: secondFactorStore,
    passwords: accounts,
    throttle,
    keyring,
    outbox,
    events: webhooks,
    clock,
    issuer: new URL(config.publicUrl).hostname,
  });
  // The queue calls back into the services it feeds; the closure runs only after they exist.
  const handleRequest = (job: QueuedRequest): Promise<unknown> => {
    if (job.kind === 'signup') return signup.complete(job.email, job.payload);
    if (job.kind === 'verify_resend') return emailVerification.resend(job.email);
    if (job.kind === 'email_change') return emailChanges.complete(job.email, job.payload);
    return recovery.issueResetLink(job.email, job.ip);
  };
  const resetRequests = new ResetRequestQueue({ db: db.db, dialect: db.dialect, clock, logger, handle: handleRequest, pollMs: config.delivery.pollMs });
  const recovery: RecoveryService = new RecoveryService({ ...common, tokens: tokensStore, rates, settings, outbox, keyring, requests: resetRequests });
  const accountTokens = new AccountTokensStore(db.db, keyring);
  const emailVerification = new EmailVerificationService({ db: db.db, accounts: accountsStore, tokens: accountTokens, rates, settings, outbox, requests: resetRequests, clock });
  const signup = new SignupService({ ...common, signupGate, verification: emailVerification, settings, rates, outbox, events: webhooks, audit, requests: resetRequests });
  const operatorSessionsStore = new OperatorSessionsStore(db.db);
  const operators = new OperatorsService({ db, store: operatorsStore, audit, consoleSessions: operatorSessionsStore, clock });
  const securityPhraseStore = new SecurityPhraseStore(db.db);
  const securityPhrases = new SecurityPhraseService({ db: db.db, store: securityPhraseStore, keyring, outbox, clock, logger, verifyPassword: (id, password, ctx) => accounts.verifyCurrentPassword(id, password, ctx) });
  const verification = new NoticeVerificationService({ db: db.db, rates, clock });
  const feedback = new NoticeFeedbackService({ db: db.db, clock });
  const breachDumps = new BreachDumpsService(db, new BreachDumpsStore(db.db), findings, recorders, new DumpSpool({ chunks: new BreachDumpChunksStore(db.db), keyring, clock }), clock, logger, { maxUploadBytes: MAX_UPLOAD_BYTES, leaseMs: 60_000 });
  const desk = new DeskService({
    db,
    search: new AccountSearchStore(db.db, db.dialect),
    store: deskStore,
    sessions: sessionsStore,
    tokens: tokensStore,
    outbox,
    settings,
    keyring,
    audit,
    clock,
    sources: TIMELINE_SOURCES,
    timeline: new AccountTimelineStore(db.db, db.dialect, operatorsStore),
  });
  const campaignWaves = new CampaignWavesStore(db.db);
  const reverter = new CampaignReverter({ db, campaigns, store: campaignsStore, targets: campaignTargets, waves: campaignWaves, tokens: tokensStore, outbox, recorders, clock });
  // Holder-initiated resets: a campaign of one approved by its holder (no tripwire budget; the kill switch applies).
  const holderReset = holderResetAdapter(campaigns);
  const holderReports = new HolderReports({ sessions: sessionsStore, findings, events: webhooks, holderReset, logger });
  const notMe = new NotMeService({ db: db.db, reports: holderReports, clock });
  const proof = holderProof({ passwords: accounts, secondFactor });
  const emailChanges: EmailChangeService = new EmailChangeService({
    db: db.db,
    accounts: accountsStore,
    tokens: accountTokens,
    proof,
    signupGate,
    sessions: sessionsStore,
    reports: holderReports,
    rates,
    requests: resetRequests,
    secondFactors: secondFactorStore,
    settings,
    outbox,
    events: webhooks,
    clock,
  });
  const accountDeletion = new AccountDeletionService({
    db: db.db,
    accounts: accountsStore,
    proof,
    sessions: sessionsStore,
    accountTokens,
    resetTokens: tokensStore,
    secondFactors: secondFactorStore,
    phrases: securityPhraseStore,
    devices: devicesStore,
    outbox,
    audit,
    events: webhooks,
    keyring,
    clock,
  });

  // transports
  const transport = createMailTransport(config, db);
  // While the kill switch is engaged, no forced-reset notice leaves, whichever process holds it.
  const heldKinds = async () => ((await guard.killSwitchEngaged()) ? (['forced_reset'] as const) : []);
  const prepare = forcedResetLinks({ db, keyring, clock, targets: campaignTargets, tokens: tokensStore, metrics });
  const worker = createNoticeWorker({ db, config, keyring, transport, clock, logger, metrics, heldKinds, securityPhrases, prepare });
  // Not an error: many relays sign for their customers. But nobody should believe notices are signed when they are not.
  if (config.production && !config.dkim) logger.warn('DKIM signing is off: set RESETGUARD_DKIM_DOMAIN, RESETGUARD_DKIM_SELECTOR and RESETGUARD_DKIM_PRIVATE_KEY, or make sure the relay signs notices');
  const campaignRunner = new CampaignRunner({ db, guard, campaigns, store: campaignsStore, waves: campaignWaves, settings, recorders, clock, logger, options: { pollMs: config.campaignPollMs, leaseMs: config.campaignLeaseMs } });
  const housekeeper = new Housekeeper({ rates, signinFailures: new SigninFailuresStore(db.db), sessions: sessionsStore, stuffing: new StuffingStore(db.db), clock, logger });
  const auditCheckpoints = new AuditCheckpoints({ db, keys: auditKeys, events: webhooks, logger, clock, ...config.auditCheckpoint });
  const breachDumpWorker = new BreachDumpWorker(breachDumps, logger, { pollMs: config.delivery.pollMs });
  // Not config.delivery.leaseMs: that can be very short, and the webhook lease must outlast its 10 s timeout.
  const webhookWorker = createWebhookWorker({ db, keyring, clock, logger, allowPrivate: config.webhookAllowPrivate, backoffBaseMs: config.delivery.backoffBaseMs, backoffCapMs: config.delivery.backoffCapMs, pollMs: config.delivery.pollMs });
  // Pages: the rg_session cookie over the same sessions as the API, and CSRF tokens under the keyring.
  const web = createWebKit({ keyring, sessions, clock, publicUrl: config.publicUrl });
  // The operator console: an operator key exchanged for its own cookie session, CSRF from the same Csrf.
  const operatorSessions = new OperatorSessionsService(operators, operatorSessionsStore, clock);
  const consoleKit = createConsoleKit({ service: operatorSessions, csrf: web.csrf, secure: new URL(config.publicUrl).protocol === 'https:', devMailbox: !config.smtpUrl && !config.production });
  const http = await buildHttpServer({
    config,
    logger,
    metrics,
    hashAdmission,
    pageErrors: pageErrorRenderer({ pageSessions: web.sessions, console: consoleKit }),
    routes: [
      systemRoutes({ db, metrics, guard, settings, clock, metricsToken: config.metricsToken }),
      accountsRoutes({ accounts, sessions, securityPhrases, secondFactor }),
      securityPhraseRoutes({ phrases: securityPhrases, sessions }),
      secondFactorRoutes({ secondFactor, accounts, sessions }),
      notMeRoutes({ notMe, web }),
      lifecycleRoutes({ emailChanges, deletion: accountDeletion, sessions }),
      signupRoutes({ signup, verification: emailVerification, operators }),
      recoveryRoutes({ recovery }),
      settingsRoutes({ settings, operators }),
      operatorsRoutes({ operators }),
      deskRoutes({ desk, operators }),
      auditRoutes({ audit, operators }),
      findingsRoutes({ findings, operators }),
      breachDumpsRoutes({ breachDumps, operators }),
      webhooksRoutes({ webhooks, operators }),
      campaignsRoutes({ campaigns, store: campaignsStore, reverter, guard, operators }),
      noticeFeedbackRoutes({ feedback, web }),
      noticeBouncesRoutes({ feedback, operators }),
      devMailRoutes({ db, config }),
      noticeVerificationRoutes({ verification }),
      resetPagesRoutes({ recovery, web }),
      verifyPagesRoutes({ verification, web }),
      verifyEmailPagesRoutes({ verification: emailVerification, web }),
      signinPagesRoutes({ accounts, signup, sessions, web, passwordMinLength: config.passwordMinLength }),
      accountPagesRoutes({ accounts, sessions, notices: new AccountNoticesStore(db.db), web, passwordMinLength: config.passwordMinLength, sections: joinSections(securitySections({ secondFactor, devices: devicesStore }), securityPhraseSections(securityPhrases), lifecycleSections({ secondFactor })) }),
      accountLifecyclePagesRoutes({ emailChanges, deletion: accountDeletion, secondFactor, web }),
      secondFactorPagesRoutes({ secondFactor, accounts, devices: devicesStore, web }),
      securityPhrasePagesRoutes({ phrases: securityPhrases, web }),
      consoleAuthRoutes({ kit: consoleKit, operatorSessions, rates, audit, db, clock }),
      dashboardRoutes({ kit: consoleKit, campaigns, store: campaignsStore, guard, findings, operators }),
      campaignNewRoutes({ kit: consoleKit, campaigns, settings, clock, publicUrl: config.publicUrl }),
      campaignPagesRoutes({ kit: consoleKit, campaigns, store: campaignsStore, timeline: new CampaignTimelineStore(db.db), guard, operators, clock }),
      campaignRevertRoutes({ kit: consoleKit, campaigns, reverter, settings }),
      findingsPagesRoutes({ kit: consoleKit, findings }),
      breachDumpsPagesRoutes({ kit: consoleKit, breachDumps, operators: operatorsStore }),
      auditPagesRoutes({ kit: consoleKit, audit, operators: operatorsStore }),
      webhooksPagesRoutes({ kit: consoleKit, webhooks }),
      settingsPagesRoutes({ kit: consoleKit, settings }),
      accountsPagesRoutes({ kit: consoleKit, desk, operators }),
      operatorsPagesRoutes({ kit: consoleKit, operators }),
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
    services: { accounts, sessions, recovery, operators, settings, audit, webhooks, guard, campaigns, reverter, feedback, findings, breachDumps, securityPhrases, desk, signup, emailVerification, emailChanges, accountDeletion },
    outbox,
    resetRequests,
    worker,
    housekeeper,
    auditCheckpoints,
    webhookWorker,
    campaignRunner,
    breachDumpWorker,
    startBackground() {
      worker.start();
      resetRequests.start();
      webhookWorker.start();
      campaignRunner.start();
      housekeeper.start();
      auditCheckpoints.start();
      breachDumpWorker.start();
      signInWatch.start();
    },
    async close() {
      await campaignRunner.stop();
      await breachDumpWorker.stop();
      await breachDumps.close();
      housekeeper.stop();
      auditCheckpoints.stop();
      await http.close();
      // Successes batched for the stuffing counters, written while the database is still open.
      await signInWatch.stop();
      await resetRequests.stop();
      await worker.stop();
      await webhookWorker.stop();
      await transport.close();
      if (ownsDb) await db.close();
    },
  };
}
