// A minimal keep-alive JSON client over node:http. It is lighter on the event loop than fetch (which in
// Node 20 adds a WHATWG streams layer per request), and the client runs in the same process as the
// server it measures, so the less CPU it takes, the less it distorts the service's figures.
import http from 'node:http';

export interface JsonResponse {
  status: number;
  body: string;
}

export class KeepAliveClient {
  readonly #agent: http.Agent;
  readonly #url: URL;

  constructor(baseUrl: string, maxSockets: number) {
    this.#url = new URL(baseUrl);
    this.#agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  post(path: string, body: unknown): Promise<JsonResponse> {
    const payload = Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          agent: this.#agent,
          host: this.#url.hostname,
          port: this.#url.port,
          method: 'POST',
          path,
          headers: { 'content-type': 'application/json', 'content-length': payload.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
