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
