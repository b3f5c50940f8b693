/**
 * A TCP port on 127.0.0.1 that was free a moment ago (bind to 0, read it, close). Another process
 * can take it before the caller binds, so servers started on it retry with a new one.
 */
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
