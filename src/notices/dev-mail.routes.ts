// The dev mailbox over HTTP: JSON at GET /v1/dev/mail (tests, scripts) and a plain page at GET /dev/mail
// (people). Only without SMTP and outside production: it shows reset links to anyone who can reach it.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Config } from '../config.js';
import { AppError } from '../lib/errors.js';
import type { Db } from '../storage/database.js';
import { listDevMail } from './dev-mail.store.js';
import { viewDevMail, type DevMailView } from './dev-mail.parse.js';
import { escapeHtml } from './templates/layout.js';

const MailItem = Type.Object({
  id: Type.String(),
  to: Type.String(),
  subject: Type.String(),
  message_id: Type.String(),
  notice_kind: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  text: Type.String(),
  html: Type.String(),
  headers: Type.Record(Type.String(), Type.String()),
  links: Type.Array(Type.String()),
});

const MailList = Type.Object({
  items: Type.Array(MailItem),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});

const ListQuery = Type.Object({
  to: Type.Optional(Type.String({ minLength: 1, maxLength: 320 })),
  // Strings with patterns rather than integers: the result is the same whether or not the app's
  // validator coerces query types.
  limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$', description: '1–100, default 20' })),
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'next_cursor of the previous page' })),
});

const PageQuery = Type.Object({ to: Type.Optional(Type.String({ minLength: 1, maxLength: 320 })) });

function page(views: DevMailView[], to: string | undefined): string {
  const rows = views
    .map(
      (m) =>
        '<article style="border-top:1px solid #ccc;padding:12px 0">' +
        `<h2 style="font-size:16px;margin:0 0 4px">${escapeHtml(m.subject)}</h2>` +
        `<p style="margin:0 0 8px;color:#555;overflow-wrap:anywhere">To ${escapeHtml(m.to)} · ${escapeHtml(m.created_at)} · ${escapeHtml(m.notice_kind ?? 'mail')} · ${escapeHtml(m.message_id)}</p>` +
        (m.links.length
          ? '<ul style="overflow-wrap:anywhere">' + m.links.map((l) => `<li><a href="${escapeHtml(l)}">${escapeHtml(l)}</a></li>`).join('') + '</ul>'
          : '') +
        `<pre style="white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f6f6;padding:8px">${escapeHtml(m.text)}</pre>` +
        '</article>',
    )
    .join('');
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">' +
    '<title>Dev mailbox</title></head><body style="font-family:system-ui,sans-serif;max-width:760px;margin:24px auto;padding:0 12px"><main>' +
    '<h1>Dev mailbox</h1><p>Mail the service would have sent, newest first. Only available without SMTP and outside production.</p>' +
    '<form method="get" action="/dev/mail"><label>Recipient <input name="to" type="email" value="' +
    escapeHtml(to ?? '') +
    '"></label> <button type="submit">Filter</button></form>' +
    (rows || '<p>No mail yet.</p>') +
    '</main></body></html>'
  );
}

const DEV_MAIL_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export function devMailRoutes(deps: { db: Db; config: Config }): FastifyPluginAsync {
  const ensureEnabled = () => {
    if (deps.config.smtpUrl || deps.config.production) throw new AppError('dev_mailbox_disabled');
  };

  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/v1/dev/mail',
      { schema: { summary: 'Dev mailbox (no SMTP, not production)', tags: ['dev'], querystring: ListQuery, response: { 200: MailList } } },
      async (request) => {
        ensureEnabled();
        const { to, limit, cursor } = request.query;
        const { items, nextBeforeId } = await listDevMail(deps.db.db, {
          ...(to !== undefined ? { to } : {}),
          limit: limit === undefined ? 20 : Number(limit),
          ...(cursor !== undefined ? { beforeId: Number(cursor) } : {}),
        });
        return { items: await Promise.all(items.map(viewDevMail)), next_cursor: nextBeforeId === null ? null : String(nextBeforeId) };
      },
    );

    app.get(
      '/dev/mail',
      {
        schema: {
          summary: 'Dev mailbox page',
          tags: ['dev'],
          querystring: PageQuery,
          produces: ['text/html'],
          response: { 200: Type.String({ description: 'text/html page' }) },
        },
      },
      async (request, reply) => {
        ensureEnabled();
        const { to } = request.query;
        const { items } = await listDevMail(deps.db.db, { ...(to !== undefined ? { to } : {}), limit: 50 });
        const views = await Promise.all(items.map(viewDevMail));
        // A string with a non-JSON content type is sent as it is (no JSON serialization). The mails hold
        // live reset links: like every other page, never framed (clickjacking) and never stored.
        return reply
          .type('text/html; charset=utf-8')
          .header('content-security-policy', DEV_MAIL_CSP)
          .header('x-frame-options', 'DENY')
          .header('cache-control', 'no-store')
          .header('referrer-policy', 'no-referrer')
          .send(page(views, to));
      },
    );
  };
}
