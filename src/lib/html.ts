// The one HTML escaper: notices and pages interpolate every value through it (no template engine).
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}
