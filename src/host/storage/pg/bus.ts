/**
 * The instance bus (bus-port.ts) on PostgreSQL LISTEN/NOTIFY: one dedicated connection per
 * instance LISTENs on the mailbox and sign-out channels. The NOTIFYs are sent inside the
 * transactions that commit the envelopes (schema.ts parley_mailbox_batch) and the takeover
 * (directory.ts), so PostgreSQL delivers them exactly when, and only if, those commit.
 *
 * If the connection breaks (a database restart), it reconnects with backoff and then fires
 * `onResync`: notifications sent meanwhile are gone, so the hub re-reads every connected mailbox.
 * Why not Redis/Valkey: README "Several host instances". Knows nothing of sockets.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { MAILBOX_CHANNEL, SIGNOUT_CHANNEL, type InstanceBus } from '../bus-port';

export async function openPgBus(url: string, log: (line: string) => void = () => {}): Promise<InstanceBus> {
  const origin = randomBytes(6).toString('hex');
  const mailboxes: ((u: string[]) => void)[] = [];
  const resyncs: (() => void)[] = [];
  const signOuts: ((u: string) => void)[] = [];
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  function onNotification(n: pg.Notification): void {
    const payload = n.payload ?? '';
    if (n.channel === MAILBOX_CHANNEL) {
      const [from, ...names] = payload.split(' ');
      if (from === origin || names.length === 0) return;
      for (const f of mailboxes) f(names);
    } else if (n.channel === SIGNOUT_CHANNEL && payload) {
      for (const f of signOuts) f(payload);
    }
  }

  async function connect(): Promise<void> {
    const c = new pg.Client({ connectionString: url, application_name: 'parley-host-bus' });
    c.on('notification', onNotification);
    c.on('error', () => undefined);
    await c.connect();
    await c.query(`LISTEN ${MAILBOX_CHANNEL}; LISTEN ${SIGNOUT_CHANNEL}`);
    c.once('end', () => {
      if (closed || client !== c) return;
      client = undefined;
      log('bus: listen connection lost; reconnecting');
      reconnect(100);
    });
    client = c;
  }

  function reconnect(delay: number): void {
    retry = setTimeout(() => {
      retry = undefined;
      connect().then(
        () => {
          log('bus: listening again; re-reading connected mailboxes');
          for (const f of resyncs) f();
        },
        () => !closed && reconnect(Math.min(delay * 2, 2000))
      );
    }, delay);
  }

  await connect();
  return {
    origin,
    onMailboxes: (f) => void mailboxes.push(f),
    onResync: (f) => void resyncs.push(f),
    onSignOut: (f) => void signOuts.push(f),
    async close() {
      closed = true;
      clearTimeout(retry);
      await client?.end().catch(() => undefined);
    }
  };
}
