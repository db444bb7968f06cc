// Progressive enhancement for the operator console. Every page works without this file; it only adds
// conveniences. Served from 'self' under a CSP that forbids inline script, so behaviour is attached here
// by data attributes, never by inline handlers.
'use strict';

// <form data-confirm="Halt campaign X?">: a second chance before a form that changes things. The server
// still demands its own confirmation field where an action is destructive; this is only a speed bump.
document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  const message = form.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});

// ---- Dashboard and campaigns (C1) ---------------------------------------------------------------------

// <div data-file-pick hidden> under the targets textarea: shown only when this script runs. The chosen
// text or CSV file is read here, in the browser, into the textarea, so the form posts the same paste it
// would without JavaScript (the server has one input path, and the preview shows what was read).
(() => {
  const pick = document.querySelector('[data-file-pick]');
  if (!pick) return;
  pick.hidden = false;
  const input = pick.querySelector('input[type=file]');
  const status = pick.querySelector('[data-file-status]');
  const target = document.getElementById(input.dataset.fileFor);
  input.addEventListener('change', async () => {
    const file = input.files && input.files[0];
    if (!file || !target) return;
    if (file.size > 16 * 1024 * 1024) {
      status.textContent = 'That file is over 16 MB: use the API (POST /v1/admin/campaigns) for lists that large.';
      return;
    }
    const text = await file.text();
    target.value = text;
    const list = document.querySelector('input[name=source][value=list]');
    if (list) list.checked = true;
    const lines = text.split(/[\s,;]+/).filter(Boolean).length;
    status.textContent = `Read ${lines.toLocaleString('en-US')} entries from ${file.name}. Check them above, then preview.`;
  });
})();

// <div data-live-url="…/live" data-state="running">: the campaign page polls its JSON every 2 s and
// updates numbers, bars, the waves table and the chart in place; when the state changes, the page
// reloads so its action buttons match the new state. Stops once the campaign cannot change by itself.
(() => {
  const root = document.querySelector('[data-live-url]');
  if (!root) return;
  const settled = ['completed', 'cancelled', 'reverted', 'draft'];
  const fmt = (n) => Number(n).toLocaleString('en-US');
  const live = (name) => root.querySelector(`[data-live="${name}"]`);
  const setBar = (el, value, max) => {
    if (!el) return;
    const bar = el.querySelector('progress');
    bar.max = Math.max(1, max);
    bar.value = Math.min(value, bar.max);
    bar.textContent = `${Math.round((100 * value) / Math.max(1, max))}%`;
    el.querySelector('[data-part=value]').textContent = fmt(value);
  };
  const apply = (data) => {
    if (data.state !== root.dataset.state) {
      window.location.reload();
      return false;
    }
    for (const [key, value] of Object.entries(data.counts)) {
      const el = live(`count-${key}`);
      if (el) el.textContent = fmt(value);
    }
    setBar(live('applied'), data.counts.applied, data.target_count);
    // Waves: the table as the server renders it (a new wave appears as its own row, no reload).
    const waves = live('waves');
    if (waves) {
      const doc = new DOMParser().parseFromString(`<body>${data.waves_html}</body>`, 'text/html');
      waves.replaceChildren(...Array.from(doc.body.childNodes, (n) => document.importNode(n, true)));
    }
    const halt = live('halt-reason');
    if (halt) halt.textContent = data.halt_reason || '';
    const chart = live('chart');
    if (chart) {
      const svg = new DOMParser().parseFromString(data.chart_svg, 'image/svg+xml').documentElement;
      if (svg && svg.nodeName === 'svg') chart.replaceChildren(document.importNode(svg, true));
    }
    const totals = { applied: data.counts.applied, sent: data.counts.notices_sent, failed: data.counts.notices_failed, completed: data.counts.user_completed, unexpected: data.counts.unexpected };
    for (const [key, value] of Object.entries(totals)) {
      const el = live(`total-${key}`);
      if (el) el.textContent = fmt(value);
    }
    const updated = live('updated');
    if (updated) updated.textContent = `Live: updated ${new Date().toISOString().slice(11, 19)} UTC, every 2 seconds.`;
    return !settled.includes(data.state);
  };
  const tick = async () => {
    let again = true;
    try {
      const res = await fetch(root.dataset.liveUrl, { credentials: 'same-origin', cache: 'no-store', headers: { accept: 'application/json' } });
      if (res.redirected || !res.ok) {
        const updated = live('updated');
        if (updated) updated.textContent = res.redirected ? 'Your console session ended: sign in again for live numbers.' : `Live updates paused (HTTP ${res.status}); retrying.`;
        again = !res.redirected;
      } else {
        again = apply(await res.json());
      }
    } catch {
      // Network hiccup: try again on the next tick.
    }
    if (again) setTimeout(tick, 2000);
  };
  if (!settled.includes(root.dataset.state)) setTimeout(tick, 2000);
})();

// ---- Breach dumps, findings, audit, webhooks, settings (C2) --------------------------------------------

// <form data-upload="URL">: a chosen file goes to URL as the raw request body (never read into memory
// here), with the CSRF token in a header and a progress bar fed by the upload's progress events. With
// no file chosen, the form posts its pasted text as usual. Without this script the file field stays
// hidden and the paste form is all there is.
(() => {
  const form = document.querySelector('form[data-upload]');
  if (!(form instanceof HTMLFormElement)) return;
  const part = (name) => form.querySelector(`[data-upload-${name}]`);
  part('file').hidden = false;
  part('or').hidden = false;
  part('paste').hidden = true;
  const fileInput = form.querySelector('input[type=file]');
  const button = form.querySelector('button[type=submit]');
  const bar = part('progress');
  const status = part('status');
  const show = (fraction) => {
    bar.hidden = false;
    const pct = Math.floor(fraction * 100);
    bar.querySelector('progress').value = pct;
    part('percent').textContent = `${pct}%`;
  };
  const refusal = (xhr) => {
    if (xhr.responseURL && new URL(xhr.responseURL).pathname === '/console/signin') return 'Your console session has ended: sign in again, then upload once more.';
    const doc = new DOMParser().parseFromString(xhr.responseText || '', 'text/html');
    const text = doc.querySelector('main .error')?.textContent?.trim();
    return `The upload was refused (${xhr.status})${text ? `: ${text}` : '.'} Nothing was stored.`;
  };
  form.addEventListener('submit', (event) => {
    if (event.defaultPrevented) return;
    const file = fileInput.files && fileInput.files[0];
    if (!file) return;
    event.preventDefault();
    const label = form.querySelector('input[name=label]').value.trim();
    const xhr = new XMLHttpRequest();
    xhr.open('POST', form.dataset.upload + (label ? `?label=${encodeURIComponent(label)}` : ''));
    xhr.setRequestHeader('content-type', 'text/plain; charset=utf-8');
    xhr.setRequestHeader('x-csrf-token', form.querySelector('input[name=csrf]').value);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable && e.total > 0) show(e.loaded / e.total);
    });
    xhr.addEventListener('load', () => {
      if (xhr.status === 202) {
        show(1);
        status.textContent = 'Uploaded and stored. Opening its page…';
        window.location.assign(JSON.parse(xhr.responseText).location);
        return;
      }
      status.textContent = refusal(xhr);
      button.disabled = false;
    });
    xhr.addEventListener('error', () => {
      status.textContent = 'The upload failed: the connection was lost. Nothing was stored.';
      button.disabled = false;
    });
    button.disabled = true;
    status.textContent = `Uploading ${file.name}…`;
    show(0);
    xhr.send(file);
  });
})();

// <div id="…" data-poll="MS">: the page is fetched again every MS milliseconds and this element (and
// every [data-poll-part] element, by id) is swapped for its fresh copy; polling stops when the fresh
// copy has no data-poll (the work finished) or the page cannot be read (signed out: the Refresh link
// remains). No meta refresh: the rest of the page, and what the reader is doing on it, stays put.
(() => {
  for (const live of document.querySelectorAll('[data-poll][id]')) {
    const ms = Math.max(500, Number(live.dataset.poll) || 2000);
    const tick = async () => {
      let doc;
      try {
        const res = await fetch(window.location.pathname, { credentials: 'same-origin', cache: 'no-store' });
        if (!res.ok || res.redirected) return;
        doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      } catch {
        setTimeout(tick, ms * 4);
        return;
      }
      const fresh = doc.getElementById(live.id);
      if (!fresh) return;
      document.getElementById(live.id).replaceWith(document.importNode(fresh, true));
      for (const old of document.querySelectorAll('[data-poll-part][id]')) {
        const next = doc.getElementById(old.id);
        if (next) old.replaceWith(document.importNode(next, true));
        else old.remove();
      }
      if (fresh.hasAttribute('data-poll')) setTimeout(tick, ms);
    };
    setTimeout(tick, ms);
  }
})();
