// A stand-in for the Pwned Passwords range API (GET /range/<5 hex>), so the pages show a breached
// password's real count without the internet. Knows only the passwords it is given.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startRangeApi(known: Record<string, number>): Promise<{ url: string; close(): Promise<void> }> {
  const byPrefix = new Map<string, string[]>();
  for (const [password, count] of Object.entries(known)) {
    const hex = createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase();
    byPrefix.set(hex.slice(0, 5), [...(byPrefix.get(hex.slice(0, 5)) ?? []), `${hex.slice(5)}:${count}`]);
  }
  const server: Server = createServer((req, res) => {
    const prefix = /^\/range\/([0-9A-F]{5})$/i.exec(req.url ?? '')?.[1]?.toUpperCase();
    if (!prefix) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/plain' }).end((byPrefix.get(prefix) ?? []).join('\r\n'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
