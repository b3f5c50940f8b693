/**
 * What several host instances must agree on for authentication and abuse limits, on PostgreSQL
 * (port.ts; DESIGN.md §4): bearer token hashes (durable), outstanding login challenges (single
 * use, in an UNLOGGED table: a challenge fetched from one instance can be answered at another)
 * and fixed-window rate counters (UNLOGGED, one atomic upsert per hit, the same windows as
 * rate-limit.ts). Knows nothing of signatures or of what a limit protects.
 */
import type pg from 'pg';
import type { HostStore } from '../port';

type Auth = Pick<HostStore, 'putChallenge' | 'takeChallenge' | 'putToken' | 'tokenUser' | 'hitRate'>;

export function pgAuth(pool: pg.Pool): Auth {
  return {
    async putChallenge(challenge, expiresAt) {
      await pool.query({
        name: 'put-challenge',
        text: 'INSERT INTO challenges (challenge, expires_at) VALUES ($1, $2) ON CONFLICT (challenge) DO UPDATE SET expires_at = excluded.expires_at',
        values: [challenge, expiresAt]
      });
    },

    async takeChallenge(challenge, now) {
      // DELETE ... RETURNING: of two instances taking one challenge at once, one gets the row.
      const r = await pool.query<{ expires_at: number }>({ name: 'take-challenge', text: 'DELETE FROM challenges WHERE challenge = $1 RETURNING expires_at', values: [challenge] });
      const row = r.rows[0];
      return row !== undefined && row.expires_at > now;
    },

    async putToken(hash, username, expiresAt) {
      await pool.query({
        name: 'put-token',
        text: 'INSERT INTO tokens (hash, username, expires_at) VALUES ($1, $2, $3) ON CONFLICT (hash) DO UPDATE SET username = excluded.username, expires_at = excluded.expires_at',
        values: [hash, username, expiresAt]
      });
    },

    async tokenUser(hash, now) {
      const r = await pool.query<{ username: string }>({ name: 'token-user', text: 'SELECT username FROM tokens WHERE hash = $1 AND expires_at > $2', values: [hash, now] });
      return r.rows[0]?.username;
    },

    async hitRate(key, window, now, weight = 1) {
      // A window that has run its course restarts with this hit, as in rate-limit.ts.
      const r = await pool.query<{ started_at: number; hits: number }>({
        name: 'hit-rate',
        text: `INSERT INTO rate_windows AS w (key, started_at, window_ms, hits) VALUES ($1, $2::bigint, $3::bigint, $4::integer)
               ON CONFLICT (key) DO UPDATE SET
                 started_at = CASE WHEN $2::bigint - w.started_at >= $3::bigint THEN $2::bigint ELSE w.started_at END,
                 hits = CASE WHEN $2::bigint - w.started_at >= $3::bigint THEN $4::integer ELSE w.hits + $4::integer END,
                 window_ms = $3::bigint
               RETURNING started_at, hits`,
        values: [key, now, window.windowMs, weight]
      });
      const w = r.rows[0]!;
      return w.hits <= window.max ? 0 : Math.max(1, w.started_at + window.windowMs - now);
    }
  };
}
