/**
 * The host as one person's browser meets it: a reverse proxy on a loopback port in front of the
 * real host. It does two things a host can do, and nothing else:
 * - withholds (SECURITY.md P14): on the WebSocket, envelope frames pushed by the host can be
 *   swallowed on request — never delivered, so never acked, so the host keeps them and pushes them
 *   again after a reconnect — and every socket can be dropped;
 * - watches connections (P41, P49): for every HTTP request (passed through untouched) it notes
 *   which of the browser's TCP connections carried it and whether it carried a bearer token.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

/** Host frame type of a pushed envelope (src/lib/wire/host-frames.ts). */
const ENVELOPE_FRAME = 0x83;

export interface LoggedRequest {
  /** The browser's TCP connection, numbered in the order they were first used. */
  connection: number;
  method: string;
  path: string;
  bearer: boolean;
}

export class HostProxy {
  /** Envelope frames still to swallow. */
  withhold = 0;
  /** Every HTTP request, in order. */
  readonly requests: LoggedRequest[] = [];
  readonly #connections = new WeakMap<Socket, number>();
  #nextConnection = 0;
  readonly #server: Server;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #pairs = new Set<{ client: WebSocket; upstream: WebSocket }>();

  private constructor(private readonly target: URL) {
    this.#server = createServer((req, res) => {
      let connection = this.#connections.get(req.socket);
      if (connection === undefined) this.#connections.set(req.socket, (connection = this.#nextConnection++));
      this.requests.push({ connection, method: req.method ?? 'GET', path: new URL(req.url ?? '/', target).pathname, bearer: /^Bearer /i.test(req.headers.authorization ?? '') });
      const up = request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    this.#server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      this.#wss.handleUpgrade(req, socket, head, (client) => this.#bridge(req, client));
    });
  }

  static async start(target: string): Promise<HostProxy> {
    const p = new HostProxy(new URL(target));
    await new Promise<void>((resolve) => p.#server.listen(0, '127.0.0.1', resolve));
    return p;
  }

  get url(): string {
    return `http://localhost:${(this.#server.address() as AddressInfo).port}`;
  }

  #bridge(req: IncomingMessage, client: WebSocket): void {
    const url = new URL(req.url ?? '/', this.target);
    url.protocol = 'ws:';
    const upstream = new WebSocket(url, { headers: { origin: req.headers.origin ?? '', host: req.headers.host ?? '' } });
    const pair = { client, upstream };
    this.#pairs.add(pair);
    const pending: WebSocket.RawData[] = [];
    upstream.on('open', () => pending.splice(0).forEach((d) => upstream.send(d)));
    client.on('message', (data) => (upstream.readyState === WebSocket.OPEN ? upstream.send(data) : pending.push(data)));
    upstream.on('message', (data: Buffer) => {
      if (data[0] === ENVELOPE_FRAME && this.withhold > 0) {
        this.withhold--;
        return;
      }
      client.send(data);
    });
    const close = () => {
      this.#pairs.delete(pair);
      client.terminate();
      upstream.terminate();
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
  }

  /** Drops every socket: the browser reconnects and the host pushes what was never acked. */
  dropSockets(): void {
    for (const { client, upstream } of [...this.#pairs]) {
      client.terminate();
      upstream.terminate();
    }
  }

  async close(): Promise<void> {
    this.dropSockets();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
