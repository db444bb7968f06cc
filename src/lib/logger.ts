// pino with redaction: passwords, tokens, keys and cookies never reach a log line, and a reset link's
// `?token=` is cut out of logged URLs. test/logging.test.ts greps captured logs to prove it.
import pino, { type Logger, type DestinationStream } from 'pino';

export const REDACT_PATHS = [
  'password',
  'new_password',
  'current_password',
  'token',
  'key',
  'secret',
  '*.password',
  '*.new_password',
  '*.current_password',
  '*.token',
  '*.key',
  '*.secret',
  '*.password_hash',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
];

/** Replaces the value of every query parameter that may carry a secret. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|key|code|password)=)[^&#]*/gi, '$1[Redacted]');
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
      serializers: {
        req: (req: { method?: string; url?: string; ip?: string; id?: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url ? redactUrl(req.url) : undefined,
          ip: req.ip,
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
        err: pino.stdSerializers.err,
      },
    },
    destination,
  );
}
