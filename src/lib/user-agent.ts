// "Chrome on Windows": enough for a person to recognise their own devices in a session list. A full
// User-Agent parser would name versions and models we do not need, and the header is client-chosen
// anyway — the summary is a hint, never evidence.

const BROWSERS: Array<[RegExp, string]> = [
  // Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
  [/\bEdg(?:e|A|iOS)?\//, 'Edge'],
  [/\b(?:OPR|Opera)\//, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\b(?:Firefox|FxiOS)\//, 'Firefox'],
  [/\b(?:HeadlessChrome|Chrome|Chromium|CriOS)\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
  [/^curl\//, 'curl'],
];

const SYSTEMS: Array<[RegExp, string]> = [
  [/\biPhone\b/, 'iPhone'],
  [/\biPad\b/, 'iPad'],
  [/\bAndroid\b/, 'Android'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b/, 'Linux'],
];

/** The browser and operating system families, when recognised (new-device alerts name both). */
export function userAgentFamily(ua: string | null): { browser: string | undefined; system: string | undefined } {
  if (!ua) return { browser: undefined, system: undefined };
  return { browser: BROWSERS.find(([re]) => re.test(ua))?.[1], system: SYSTEMS.find(([re]) => re.test(ua))?.[1] };
}

export function summarizeUserAgent(ua: string | null): string {
  if (!ua) return 'Unknown device';
  const { browser, system } = userAgentFamily(ua);
  if (browser && system) return `${browser} on ${system}`;
  if (browser) return browser;
  if (system) return `A browser on ${system}`;
  // Something we do not recognise (an API client): its product token, cut short.
  const product = /^[A-Za-z][\w.-]{0,30}/.exec(ua)?.[0];
  return product ? `Other client (${product})` : 'Unknown device';
}
