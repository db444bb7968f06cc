// The one stylesheet of the account-holder pages, served at /assets/site.css (the CSP allows no inline
// style). Colours keep WCAG AA contrast on white: ink 14:1, muted 6:1, accent 5.9:1, bad 6.9:1.
export const STYLESHEET = `
:root { color-scheme: light; --ink: #1d2330; --muted: #5a6272; --line: #d9dde5; --accent: #1f5fbf; --accent-dark: #174a96; --bad: #a4262c; --good: #1e7b34; --page: #f5f6f8; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--page); }
.top { max-width: 28rem; margin: 0 auto; padding: 1rem 0 0; display: flex; align-items: center; justify-content: space-between; gap: 1rem; }
.brand { font-weight: 700; color: var(--ink); text-decoration: none; letter-spacing: .01em; }
.top.wide { max-width: 40rem; }
time { white-space: nowrap; }
main { max-width: 28rem; margin: 2rem auto 3rem; padding: 2rem; background: #fff; border: 1px solid var(--line); border-radius: 8px; overflow-wrap: break-word; }
main.wide { max-width: 40rem; }
h1 { font-size: 1.4rem; line-height: 1.3; margin: 0 0 1rem; }
h2 { font-size: 1.1rem; margin: 0 0 .75rem; }
section { border-top: 1px solid var(--line); padding-top: 1.25rem; margin-top: 1.5rem; }
p { margin: 0 0 1rem; }
label { display: block; font-weight: 600; margin: 1rem 0 .25rem; }
input[type=email], input[type=password], input[type=text] { width: 100%; padding: .6rem .7rem; font: inherit; color: var(--ink); border: 1px solid #8a94a6; border-radius: 6px; background: #fff; }
input[aria-invalid=true] { border-color: var(--bad); }
input:focus, button:focus, a:focus { outline: 3px solid #9cc0f5; outline-offset: 1px; }
button { margin-top: 1.25rem; width: 100%; padding: .7rem; font: inherit; font-weight: 600; color: #fff; background: var(--accent); border: 1px solid var(--accent); border-radius: 6px; cursor: pointer; }
button:hover { background: var(--accent-dark); }
button.secondary { color: var(--accent); background: #fff; }
button.secondary:hover { background: #eef3fb; }
button.danger { background: var(--bad); border-color: var(--bad); }
button.danger:hover { background: #861f24; }
.inline { display: inline; }
.inline button { width: auto; margin: 0; padding: .45rem .9rem; }
.hint { color: var(--muted); font-size: .9rem; margin-top: .25rem; }
.error { color: var(--bad); background: #fdf0f0; border: 1px solid #f0c4c6; padding: .6rem .8rem; border-radius: 6px; }
.ok { color: var(--good); background: #eff8f1; border: 1px solid #bfe3c8; padding: .6rem .8rem; border-radius: 6px; }
.links { margin-top: 1.5rem; }
.links p { margin: 0 0 .4rem; }
a { color: var(--accent); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0 0 1rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
ul.cards { list-style: none; margin: 0; padding: 0; }
ul.cards li { border: 1px solid var(--line); border-radius: 6px; padding: .65rem .8rem; margin: 0 0 .6rem; }
ul.cards .title { font-weight: 600; margin: 0; }
ul.cards .meta { color: var(--muted); font-size: .9rem; margin: .15rem 0 0; overflow-wrap: anywhere; }
.badge { display: inline-block; margin-left: .4rem; padding: 0 .45rem; font-size: .8rem; font-weight: 600; color: var(--good); background: #eff8f1; border: 1px solid #bfe3c8; border-radius: 999px; vertical-align: 1px; }
.qr { display: block; width: 12rem; max-width: 100%; height: auto; margin: 0 auto 1rem; }
ol.codes { columns: 2; padding-left: 1.5rem; margin: 0 0 1rem; }
ol.codes li { margin: 0 0 .3rem; }
.code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-weight: 600; letter-spacing: .04em; white-space: nowrap; }
@media (max-width: 32rem) {
  .top { padding: .75rem 1.25rem 0; }
  main, main.wide { margin: .75rem 0 0; border: 0; border-radius: 0; min-height: 100vh; padding: 1.25rem; }
  dl.facts { grid-template-columns: 1fr; gap: 0; }
  dl.facts dd { margin-bottom: .5rem; }
}
`;
