// The timeline's sources, one small function each (see timeline.ts for the contract). To add one: read the account's rows newest first
// through a query in timeline.store.ts (at most ctx.limit, after the cursor), and append it to TIMELINE_SOURCES.
import { formatVerificationCode } from '../notices/verification-code.js';
import { comesAfter, type SourceContext, type SourcedItem, type TimelineSource } from './timeline.js';
import { findingWords, hourWords, noticeKindWords, noticeStateWords, sessionEndWords } from './timeline-words.js';

const from = (ip: string | null) => (ip ? ` from ${ip}` : '');

const signIns: TimelineSource = {
  name: 'session_started',
  async read(ctx) {
    const rows = await ctx.store.sessionsStarted(ctx, this.name);
    return rows.map((r) => ({
      source: this.name,
      key: r.id,
      item: { at: r.created_at, kind: 'signed_in', summary: `Signed in with the password${from(r.ip)}; a new session started.`, ip: r.ip, user_agent: r.user_agent },
    }));
  },
};

const sessionEnds: TimelineSource = {
  name: 'session_ended',
  async read(ctx) {
    const rows = await ctx.store.sessionsEnded(ctx, this.name);
    return rows.map((r) => ({
      source: this.name,
      key: r.id,
      item: {
        at: r.revoked_at!,
        kind: 'session_ended',
        summary: `The session that signed in${from(r.ip)} on ${new Date(r.created_at).toISOString().slice(0, 10)} was ended: ${sessionEndWords(r.revoked_reason)}.`,
        reason: r.revoked_reason,
        ip: r.ip,
      },
    }));
  },
};

const signInFailures: TimelineSource = {
  name: 'sign_in_failed',
  async read(ctx) {
    const rows = await ctx.store.signInFailureHours(ctx, this.name);
    return rows.map((r) => ({
      source: this.name,
      key: '',
      item: {
        at: r.hour,
        kind: 'sign_in_failed',
        summary: `${r.failures === 1 ? '1 failed sign-in' : `${r.failures} failed sign-ins`} (wrong password, or refused) between ${hourWords(r.hour)}; the last${from(r.last_ip)}.`,
        count: r.failures,
        ip: r.last_ip,
      },
    }));
  },
};

const notices: TimelineSource = {
  name: 'notice',
  async read(ctx) {
    const rows = await ctx.store.notices(ctx, this.name);
    return rows.map((r) => ({
      source: this.name,
      key: r.id,
      item: {
        at: r.created_at,
        kind: 'notice',
        summary: `${noticeKindWords(r.kind)} to ${r.recipient}: ${noticeStateWords(r.state)}${r.sent_at ? ` at ${new Date(r.sent_at).toISOString().slice(11, 16)} UTC` : ''}${r.verification_code ? `. Its verification code is ${formatVerificationCode(r.verification_code)}` : ' (its verification code is given when it is sent)'}${r.campaign_id ? `; sent by campaign ${r.campaign_id}` : ''}.`,
        notice_id: r.id,
        notice_kind: r.kind,
        state: r.state,
        ...(r.verification_code ? { verification_code: formatVerificationCode(r.verification_code) } : {}),
        campaign_id: r.campaign_id,
      },
    }));
  },
};

const findings: TimelineSource = {
  name: 'finding',
  async read(ctx) {
    const rows = await ctx.store.findings(ctx, this.name);
    return rows.map((r) => ({
      source: this.name,
      key: r.id,
      item: { at: r.created_at, kind: 'finding', summary: `Finding: ${findingWords(r.kind)} (${r.source}).`, state: r.kind },
    }));
  },
};

/** An account is the target of a handful of campaigns at most: read them all, place each event. */
const MAX_CAMPAIGNS = 200;
const campaigns: TimelineSource = {
  name: 'campaign',
  async read(ctx) {
    const rows = await ctx.store.campaignTargets(ctx.accountId, MAX_CAMPAIGNS);
    const out: SourcedItem[] = [];
    for (const r of rows) {
      const about = `campaign ${r.campaign_id} ("${r.reason}")`;
      const add = (at: number, kind: string, suffix: string, summary: string) => {
        const x = { source: this.name, key: `${r.campaign_id}:${suffix}`, item: { at, kind, summary, campaign_id: r.campaign_id, state: r.state } };
        if (comesAfter(ctx.cursor, { at, source: x.source, key: x.key })) out.push(x);
      };
      if (r.applied_at !== null) {
        add(r.applied_at, 'campaign_applied', 'a', `The password was reset by ${about}: the old password stopped working and a reset link was due to be mailed.`);
        if (r.password_changed_at !== null && r.password_changed_at > r.applied_at) {
          add(r.password_changed_at, 'campaign_completed', 'c', `The holder set a new password after ${about}.`);
        }
      }
      if (r.state === 'skipped') add(r.created_at, 'campaign_skipped', 's', `Left out of ${about}: ${r.skip_reason ?? 'skipped'}.`);
      if (r.state === 'reverted') {
        const what = r.revert_variant === 'not_changed' ? 'the previous password works again' : 'the holder had already chosen a new password, which stays';
        add(r.updated_at, 'campaign_reverted', 'r', `${about} was reverted: ${what}; a correction notice follows if the holder was mailed.`);
      }
    }
    return out;
  },
};

const operatorActions: TimelineSource = {
  name: 'operator_action',
  async read(ctx) {
    const rows = await ctx.store.auditEntries(ctx, this.name);
    const operatorOf = (actor: string) => /^operator:(.+)$/.exec(actor)?.[1];
    const names = await ctx.store.operatorNames(rows.map((r) => operatorOf(r.actor)).filter((x): x is string => !!x));
    return rows.map((r) => {
      const id = operatorOf(r.actor);
      const who = (id && names.get(id)) ?? r.actor;
      const data = JSON.parse(r.data) as Record<string, unknown>;
      return {
        source: this.name,
        key: String(r.seq).padStart(15, '0'),
        item: { at: r.at, kind: 'operator_action', summary: operatorWords(who, r.action, data, r.reason), actor: r.actor, reason: r.reason, state: r.action },
      };
    });
  },
};

function operatorWords(who: string, action: string, data: Record<string, unknown>, reason: string | null): string {
  const because = reason ? ` Reason given: "${reason}".` : '';
  switch (action) {
    case 'account.sessions_revoked':
      return `Operator ${who} signed the account out everywhere (${Number(data.revoked ?? 0)} sessions ended).${because}`;
    case 'account.locked':
      return `Operator ${who} locked the account: it cannot sign in or reset its password until unlocked.${because}`;
    case 'account.unlocked':
      return `Operator ${who} unlocked the account.${because}`;
    case 'account.deleted':
      return 'The holder deleted the account (signed in, with the password): every session ended and the address, password and second factor were removed; the audit log keeps only a keyed hash of the address.';
    case 'account.notice_resent':
      return `Operator ${who} sent the ${String(data.kind ?? 'notice').replace(/_/g, ' ')} mail again (same verification code ${String(data.verification_code ?? '')}).${because}`;
    default:
      return `Operator ${who}: ${action}.${because}`;
  }
}

const secondFactor: TimelineSource = {
  name: 'second_factor',
  async read(ctx) {
    const [enabledAt, codes] = await Promise.all([ctx.store.secondFactorEnabledAt(ctx.accountId), ctx.store.usedRecoveryCodes(ctx, this.name)]);
    const out: SourcedItem[] = codes.map((c) => ({ source: this.name, key: `r${c.used_at}`, item: { at: c.used_at!, kind: 'recovery_code_used', summary: 'A recovery code was used to sign in instead of the authenticator app.' } }));
    if (enabledAt !== null) {
      const x = { source: this.name, key: 'e', item: { at: enabledAt, kind: 'second_factor_enabled', summary: 'Two-step sign-in (an authenticator app) was turned on; it is still on.' } };
      if (comesAfter(ctx.cursor, { at: x.item.at, source: x.source, key: x.key })) out.push(x);
    }
    return out;
  },
};

/** A confirmed change (its email_change token used) and an undo (its email_change_undo token used). */
const emailChanges: TimelineSource = {
  name: 'email_change',
  async read(ctx) {
    const rows = await ctx.store.emailChangeTokens(ctx, this.name);
    return rows.map((r) => ({
      source: this.name,
      key: r.id,
      item:
        r.purpose === 'email_change'
          ? { at: r.used_at!, kind: 'email_changed', summary: `The email address was changed to ${r.email}, confirmed from that address; every other session was ended and the old address was mailed a link to undo it.` }
          : { at: r.used_at!, kind: 'email_change_undone', summary: `The old address ${r.email} undid an email change: it is the account's address again, every session was ended and a password reset was forced.` },
    }));
  },
};

export const TIMELINE_SOURCES: readonly TimelineSource[] = [signIns, sessionEnds, signInFailures, notices, findings, campaigns, secondFactor, emailChanges, operatorActions];

export type { SourceContext };
