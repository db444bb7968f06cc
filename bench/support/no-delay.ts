// TCP_NODELAY on every socket a library opens, for benches that compare a library's sockets with ours.
import net from 'node:net';

/** Makes every socket opened through net.connect / net.createConnection set TCP_NODELAY; returns the undo. */
export function forceNoDelay(): () => void {
  const connect = net.connect;
  const createConnection = net.createConnection;
  const patched = function (this: unknown, ...args: unknown[]) {
    const socket = (connect as (...a: unknown[]) => net.Socket).apply(this, args);
    socket.setNoDelay(true);
    return socket;
  } as typeof net.connect;
  net.connect = patched;
  net.createConnection = patched;
  return () => {
    net.connect = connect;
    net.createConnection = createConnection;
  };
}
