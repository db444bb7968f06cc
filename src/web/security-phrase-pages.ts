// The account page's security-phrase section and its two forms (set or change; remove), over the same
// SecurityPhraseService as PUT/DELETE /v1/me/security-phrase. Success goes back to /account with a fixed
// sentence; a refused form is shown again on its own page with the reason. The phrase is never echoed
// back into a page: the holder sees it in the mail we send right after.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { requestContext } from '../accounts/accounts.routes.js';
import { sessionOf } from '../accounts/require-session.js';
import { PHRASE_MAX, PHRASE_MIN } from '../accounts/security-phrase/phrase-rules.js';
import type { SecurityPhraseService } from '../accounts/security-phrase/security-phrase.service.js';
import { AppError } from '../lib/errors.js';
import { minutesFrom } from './format.js';
import { pageErrorHandler } from './page-errors.js';
import { errorBox, redirect, sendPage } from './page.js';
import type { WebKit } from './web-kit.js';

export const PHRASE_FLASH: Record<string, string> = {
  phrase: 'Your security phrase is saved. We emailed you a confirmation that shows it.',
  'phrase-removed': 'Your security phrase was removed. We emailed you a confirmation.',
};

export function securityPhraseSection(v: { set: boolean; csrfField: string; error?: string }): string {
  const invalid = v.error ? ' aria-invalid="true" aria-describedby="phrase-error"' : '';
  const remove = v.set
    ? `<form method="post" action="/account/security-phrase/remove#phrase-title">
${v.csrfField}
<label for="phrase-remove-password">Your password, to remove the phrase</label>
<input id="phrase-remove-password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
<button type="submit" class="secondary">Remove security phrase</button>
</form>`
    : '';
  return `<section aria-labelledby="phrase-title">
<h2 id="phrase-title">Security phrase</h2>
<p>A phrase only you know, shown near the top of every email we send you: a message that claims to be from us without it is not from us.</p>
<p class="hint">${v.set ? 'You have a security phrase. Our emails show it; it is not shown here.' : 'You have not set a security phrase.'}</p>
${v.error ? errorBox(v.error, 'phrase-error') : ''}
<form method="post" action="/account/security-phrase#phrase-title">
${v.csrfField}
<label for="phrase">${v.set ? 'New security phrase' : 'Security phrase'}</label>
<input id="phrase" name="phrase" type="text" autocomplete="off" spellcheck="false" required minlength="${PHRASE_MIN}" maxlength="${PHRASE_MAX}" aria-describedby="phrase-hint"${invalid}>
<p class="hint" id="phrase-hint">${PHRASE_MIN}–${PHRASE_MAX} letters, digits, spaces and simple punctuation; not your password, no links.</p>
<label for="phrase-password">Your password</label>
<input id="phrase-password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
<button type="submit">${v.set ? 'Change security phrase' : 'Save security phrase'}</button>
</form>
${remove}
</section>`;
}

/** The section for AccountPagesDeps.sections. */
export function securityPhraseSections(phrases: Pick<SecurityPhraseService, 'isSet'>) {
  return async (accountId: string, csrfField: string): Promise<string[]> => [securityPhraseSection({ set: await phrases.isSet(accountId), csrfField })];
}

/** Several section sources, in order, for the one AccountPagesDeps.sections. */
export function joinSections(...sources: Array<(accountId: string, csrfField: string) => Promise<string[]>>) {
  return async (accountId: string, csrfField: string): Promise<string[]> => (await Promise.all(sources.map((s) => s(accountId, csrfField)))).flat();
}

export function securityPhrasePagesRoutes(deps: { phrases: SecurityPhraseService; web: WebKit }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    fastify.setErrorHandler(pageErrorHandler(deps.web.sessions));
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const signedInForm = { preValidation: [deps.web.sessions.require, deps.web.csrf.checkSignedIn] };
    const Password = Type.String({ maxLength: 8192 });

    // A refused form on a page of its own: the reason, and the section to try again.
    async function refused(reply: FastifyReply, accountId: string, csrfField: string, err: unknown): Promise<FastifyReply> {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      let message = err.message;
      if (err.code === 'invalid_credentials') message = 'Your password is not correct.';
      if (err.code === 'too_many_attempts') {
        if (typeof err.extra.retry_after === 'number') reply.header('retry-after', String(err.extra.retry_after));
        message = `Too many wrong passwords. Try again in ${minutesFrom(err.extra.retry_after)}.`;
      }
      const set = await deps.phrases.isSet(accountId);
      const body = `${securityPhraseSection({ set, csrfField, error: message })}<p><a href="/account">Back to your account</a></p>`;
      return sendPage(reply, err.code === 'invalid_credentials' ? 400 : err.status, 'Security phrase', body, { wide: true });
    }

    app.post('/account/security-phrase', { ...signedInForm, schema: { hide: true, body: Type.Object({ phrase: Type.String({ maxLength: 1000 }), password: Password }) } }, async (request, reply) => {
      const session = sessionOf(request);
      try {
        await deps.phrases.set(session.account_id, request.body.phrase, request.body.password, requestContext(request));
      } catch (err) {
        return refused(reply, session.account_id, deps.web.csrf.sessionField(session), err);
      }
      return redirect(reply, '/account?done=phrase#result');
    });

    app.post('/account/security-phrase/remove', { ...signedInForm, schema: { hide: true, body: Type.Object({ password: Password }) } }, async (request, reply) => {
      const session = sessionOf(request);
      try {
        await deps.phrases.remove(session.account_id, request.body.password, requestContext(request));
      } catch (err) {
        return refused(reply, session.account_id, deps.web.csrf.sessionField(session), err);
      }
      return redirect(reply, '/account?done=phrase-removed#result');
    });
  };
}
