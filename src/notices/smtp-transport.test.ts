import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { coalesceWrites } from './smtp-transport.js';

describe('coalesceWrites', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('sends the writes of one turn of the event loop as one system call, in order, and later writes after them', async () => {
    const received: Buffer[] = [];
    let ended: () => void = () => {};
    const done = new Promise<void>((resolve) => (ended = resolve));
    server = createServer((s) => {
      s.on('data', (d) => received.push(d));
      s.on('end', () => ended());
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const socket: Socket = connect({ host: '127.0.0.1', port });
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.setNoDelay(true);
    coalesceWrites(socket);
    let physical = 0;
    const internals = socket as unknown as { _writeGeneric: (...a: unknown[]) => unknown };
    const writeGeneric = internals._writeGeneric;
    internals._writeGeneric = function (this: unknown, ...a: unknown[]) {
      physical++;
      return writeGeneric.apply(this, a);
    };
    socket.write('MAIL FROM:<a@b>\r\n');
    socket.write('RCPT TO:<c@d>\r\n');
    socket.write('DATA\r\n');
    await new Promise((resolve) => setImmediate(resolve));
    expect(physical).toBe(1);
    socket.write('.\r\n');
    await new Promise((resolve) => setImmediate(resolve));
    expect(physical).toBe(2);
    socket.end();
    await done;
    expect(Buffer.concat(received).toString()).toBe('MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n.\r\n');
  });
});
