/**
 * Host entry (minimal placeholder): serves the built app on PORT (default 3000).
 * The full host (directory, mailbox, signalling) replaces this file.
 */
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { staticHandler } from './static';

const port = Number(process.env.PORT ?? 3000);
const buildDir = fileURLToPath(new URL('../../build/', import.meta.url));
const handle = staticHandler(buildDir);

const server = createServer((req, res) => {
  handle(req, res).catch(() => {
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});

server.listen(port, () => {
  console.log(`Parley listening on http://localhost:${port}`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
