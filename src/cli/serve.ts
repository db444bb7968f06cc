// `serve` (HTTP + in-process worker) and `worker` (outbox delivery only, for more processes).
import { InvalidArgumentError, type Command } from 'commander';
import { createApp, type App } from '../app.js';
import { loadConfig, type Config } from '../config.js';
import { listenForMetrics } from '../system/metrics-listener.js';

function onShutdown(app: App, what: string): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      // A second signal: the operator will not wait. Whatever is still claimed comes back after its lease.
      app.logger.warn({ signal }, `${what} stopping at once; unfinished claims return when their leases expire`);
      process.exit(1);
    }
    stopping = true;
    app.logger.info({ signal }, `${what} stopping`);
    // Graceful: stop accepting, finish in-flight requests, sends and campaign batches, hand back claimed
    // work not yet started (notices, the campaign lease) so other processes take it at once, then exit.
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

function describeStart(config: Config, address: string, worker: boolean): string {
  const base = config.publicUrl;
  const lines = [
    '',
    `resetguard is listening on ${address} (${config.database.kind === 'sqlite' ? `SQLite ${config.database.path}` : 'PostgreSQL'})`,
    `  API             ${base}/v1/…   (OpenAPI: ${base}/openapi.json)`,
    `  health/metrics  ${base}/healthz  ${base}/readyz  ${base}/metrics`,
    `  pages           ${base}/reset?token=…  (links in notices)`,
    config.smtpUrl
      ? `  mail            SMTP ${new URL(config.smtpUrl).host}`
      : `  dev mailbox     ${base}/dev/mail   (JSON: ${base}/v1/dev/mail?to=EMAIL) — no SMTP configured`,
    `  background work ${worker ? 'running in this process (notices, webhooks, campaigns)' : 'not in this process (run `resetguard worker`)'}`,
    '',
    'Create the first operator (prints its API key once):',
    '  npx resetguard operator create --name admin --role admin',
    '',
  ];
  return lines.join('\n');
}

export function registerServeCommands(program: Command): void {
  program
    .command('serve')
    .description('run the HTTP API (and the outbox worker unless --no-worker); migrates first')
    .option('--no-worker', 'do not deliver notices from this process')
    .option('--host <host>', 'listen address (RESETGUARD_HOST)')
    .option('--port <port>', 'listen port (RESETGUARD_PORT)', (v) => Number(v))
    .action(async (opts: { worker: boolean; host?: string; port?: number }) => {
      const config = loadConfig(process.env, { ...(opts.host ? { host: opts.host } : {}), ...(opts.port !== undefined ? { port: opts.port } : {}) });
      const app = await createApp(config, { migrate: true, defaultMetrics: true });
      onShutdown(app, 'server');
      const address = await app.http.listen({ host: config.host, port: config.port });
      if (opts.worker) app.startBackground();
      process.stdout.write(describeStart(config, address, opts.worker));
    });

  program
    .command('worker')
    .description('deliver queued notices (run several on PostgreSQL)')
    .option('--metrics-port <port>', "serve this process's /metrics, /healthz and /readyz on RESETGUARD_HOST:port", (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port 0–65535');
      return n;
    })
    .action(async (opts: { metricsPort?: number }) => {
      const config = loadConfig();
      const app = await createApp(config, { migrate: true, defaultMetrics: true });
      onShutdown(app, 'worker');
      app.startBackground();
      if (opts.metricsPort !== undefined) app.logger.info({ address: (await listenForMetrics(app.http, config.host, opts.metricsPort)).address }, 'worker metrics listening');
      process.stdout.write(`resetguard worker started (${config.database.kind}); delivering ${config.smtpUrl ? 'over SMTP' : 'to the dev mailbox'}\n`);
    });
}
