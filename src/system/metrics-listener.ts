// A worker process serves no API, yet its counters (deliveries and their durations, the guard decisions
// of the campaigns it advances) exist only in its memory. `resetguard worker --metrics-port P` exposes
// GET /metrics, /healthz and /readyz on their own port, and nothing else: each request is handed to the
// app's own routes in memory (Fastify inject), so a worker's /metrics is rendered exactly as an API
// process's is, database-backed gauges included, while the API stays unreachable through this port.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';

const PATHS = new Set(['/metrics', '/healthz', '/readyz']);

export async function listenForMetrics(http: FastifyInstance, host: string, port: number): Promise<{ server: Server; address: string }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (!PATHS.has(path)) {
      res.writeHead(404).end();
      return;
    }
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    // The scraper's credentials go along: /metrics checks RESETGUARD_METRICS_TOKEN here as on the API port.
    const authorization = req.headers.authorization;
    http.inject({ method: 'GET', url: path, ...(authorization ? { headers: { authorization } } : {}) }).then(
      (r) => {
        const auth = r.headers['www-authenticate'];
        res.writeHead(r.statusCode, { 'content-type': String(r.headers['content-type'] ?? 'text/plain'), ...(auth ? { 'www-authenticate': String(auth) } : {}) }).end(r.body);
      },
      () => res.writeHead(503).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return { server, address: `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` };
}
