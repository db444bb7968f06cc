// pino with redaction: passwords, tokens, keys and cookies never reach a log line, and a link's
// `?token=` (however its name is encoded) and a notice's feedback id are cut out of logged URLs. test/logging.test.ts greps captured logs to prove it.
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

/** Query parameters whose value may be a secret, compared after decoding the name as the parser does. */
const SECRET_QUERY_NAMES = new Set(['token', 'key', 'code', 'password', 'secret']);
/** Paths whose id is itself a capability: a notice's feedback links (`/notices/<id>/unexpected`, `…/not-me`). */
const SECRET_PATH = /^(\/(?:v1\/)?notices\/)[^/]+(\/(?:unexpected|not-me)\/?)$/i;

function decodedOrNull(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

function redactParam(param: string): string {
  const eq = param.indexOf('=');
  if (eq < 0) return param;
  const rawName = param.slice(0, eq);
  // The query parser decodes names (`tok%65n` is `token`, `+` is a space): so must the check, or an
  // encoded name walks past it. A name that does not decode is redacted rather than guessed at.
  const name = decodedOrNull(rawName.replace(/\+/g, ' '));
  return name === null || SECRET_QUERY_NAMES.has(name.toLowerCase()) ? `${rawName}=[Redacted]` : param;
}

function redactPath(path: string): string {
  const match = SECRET_PATH.exec(decodedOrNull(path) ?? path);
  return match ? `${match[1]}[Redacted]${match[2]}` : path;
}

/** The URL as it may be logged: secret query values and capability ids in the path replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return redactPath(url);
  return `${redactPath(url.slice(0, q))}?${url.slice(q + 1).split('&').map(redactParam).join('&')}`;
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
