/**
 * Versioned PostgreSQL schema of the host (DESIGN.md §5, §9), applied by client.ts `migrate`
 * under the track `parley_host_schema`. Append migrations; never edit one that has shipped.
 *
 * - Envelope ids come from an identity sequence, so an id is never reused after a delete (clients
 *   ack by id and the host redelivers in id order). Bodies are ciphertext: STORAGE EXTERNAL skips
 *   the compression attempt PostgreSQL would otherwise make on large ones.
 * - `mailbox_usage` keeps each mailbox's envelope count and bytes, updated in the same transaction
 *   as every insert and ack. Its row is also the mailbox's lock: a batch locks the rows of every
 *   mailbox it touches, in username order (so batches never deadlock), before taking ids. Hence
 *   for one recipient ids are taken and committed in the same order, and quotas hold across
 *   instances. `createAccount` creates the row.
 * - `challenges` and `rate_windows` are UNLOGGED: shared by instances but not worth an fsync; a
 *   database crash empties them, which costs a login retry and resets rate windows.
 * - `parley_mailbox_batch` is the group commit as ONE statement (one round trip, one commit): see
 *   its comments. The admission rule is FIFO per mailbox (port.ts).
 * - v2 (P40 lockouts, P37, P38, several instances): `mailbox_sender_usage` keeps each sender's
 *   share of a mailbox beside `mailbox_usage`, under the same lock; the batch also enforces the
 *   sender share, returns per insert the mailbox's previous highest id (`before`, for in-order
 *   live push, hub.ts) and, inside the transaction, NOTIFYs the mailboxes it wrote (recipient
 *   usernames only, pg/bus.ts), so the notification exists exactly when the commit does.
 *   Account records gain their takeover key, and the deployment its realm-token issuer key.
 * - v3: the batch function is planned on every call (`plan_cache_mode`), never on a cached
 *   generic plan that a small table once made cheap (see the migration).
 * - v4: `mailbox_usage.shares` says whether a mailbox keeps its senders' shares; only a mailbox
 *   that could hold more than one share does (see the migration).
 */

export const HOST_SCHEMA_TRACK = 'parley_host_schema';

export const HOST_MIGRATIONS: readonly string[] = [
  `CREATE TABLE accounts (
     username text PRIMARY KEY,
     identity bytea NOT NULL,
     created_at bigint NOT NULL
   );
   CREATE TABLE signed_prekeys (
     username text PRIMARY KEY REFERENCES accounts (username),
     key_id bigint NOT NULL,
     public_key bytea NOT NULL,
     signature bytea NOT NULL
   );
   CREATE TABLE one_time_prekeys (
     username text NOT NULL REFERENCES accounts (username),
     key_id bigint NOT NULL,
     public_key bytea NOT NULL,
     PRIMARY KEY (username, key_id)
   );
   CREATE TABLE kem_prekeys (
     username text NOT NULL REFERENCES accounts (username),
     key_id bigint NOT NULL,
     last_resort boolean NOT NULL,
     public_key bytea NOT NULL,
     signature bytea NOT NULL,
     PRIMARY KEY (username, key_id)
   );
   CREATE UNIQUE INDEX kem_prekeys_one_last_resort ON kem_prekeys (username) WHERE last_resort;
   CREATE TABLE tokens (
     hash bytea PRIMARY KEY,
     username text NOT NULL REFERENCES accounts (username),
     expires_at bigint NOT NULL
   );
   CREATE INDEX tokens_user ON tokens (username);
   CREATE INDEX tokens_expiry ON tokens (expires_at);
   CREATE UNLOGGED TABLE challenges (
     challenge bytea PRIMARY KEY,
     expires_at bigint NOT NULL
   );
   CREATE UNLOGGED TABLE rate_windows (
     key text PRIMARY KEY,
     started_at bigint NOT NULL,
     window_ms bigint NOT NULL,
     hits integer NOT NULL
   );
   CREATE TABLE envelopes (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     recipient text NOT NULL,
     sender text NOT NULL,
     received_at bigint NOT NULL,
     body bytea NOT NULL
   );
   ALTER TABLE envelopes ALTER COLUMN body SET STORAGE EXTERNAL;
   CREATE INDEX envelopes_mailbox ON envelopes (recipient, id);
   CREATE TABLE mailbox_usage (
     username text PRIMARY KEY,
     envelopes integer NOT NULL,
     bytes bigint NOT NULL
   );
   CREATE TABLE account_records (
     username text PRIMARY KEY,
     key_hash bytea NOT NULL,
     record bytea NOT NULL,
     updated_at bigint NOT NULL
   );
   CREATE TABLE devices (
     username text PRIMARY KEY,
     device_hash bytea NOT NULL
   );

   -- The group commit (port.ts applyMailboxBatch). Inserts are parallel arrays in input order;
   -- acks are (user, id, input index) triples. Returns one row per insert ('i': its 1-based
   -- position, then its id or the refusal) and one per ack input that deleted anything ('a').
   CREATE FUNCTION parley_mailbox_batch(
     p_recipients text[], p_senders text[], p_received_at bigint[], p_bodies bytea[],
     p_ack_users text[], p_ack_ids bigint[], p_ack_inputs integer[],
     p_max_count integer, p_max_bytes bigint)
   RETURNS TABLE (kind text, idx integer, id bigint, refusal text, n integer, bytes bigint)
   LANGUAGE plpgsql AS $fn$
   #variable_conflict use_column
   BEGIN
     -- 1. Lock every touched mailbox, in one global order: no deadlock between batches, and no
     --    other batch changes these mailboxes until we commit.
     PERFORM 1 FROM mailbox_usage AS u
       WHERE u.username = ANY (p_recipients || p_ack_users)
       ORDER BY u.username FOR UPDATE;
     -- 2. One statement (a fresh snapshot, taken after the locks): admit, insert, delete, count.
     RETURN QUERY
     WITH ins AS (
       SELECT t.ord::integer AS ord, t.r, t.s, t.a, t.b,
              coalesce(u.envelopes, 0) + count(*) OVER w AS run_count,
              coalesce(u.bytes, 0) + sum(octet_length(t.b)) OVER w AS run_bytes
         FROM unnest(p_recipients, p_senders, p_received_at, p_bodies) WITH ORDINALITY AS t (r, s, a, b, ord)
         LEFT JOIN mailbox_usage AS u ON u.username = t.r
       WINDOW w AS (PARTITION BY t.r ORDER BY t.ord ROWS UNBOUNDED PRECEDING)
     ),
     -- FIFO: the running totals count refused envelopes too, so after one refusal every later
     -- envelope for that mailbox in this batch is refused as well.
     admitted AS (
       SELECT ins.ord, ins.r, ins.s, ins.a, ins.b FROM ins
        WHERE ins.run_count <= p_max_count AND ins.run_bytes <= p_max_bytes
     ),
     -- ORDER BY: ids are drawn in input order, so sorted ids pair with sorted positions.
     stored AS (
       INSERT INTO envelopes (recipient, sender, received_at, body)
       SELECT admitted.r, admitted.s, admitted.a, admitted.b FROM admitted ORDER BY admitted.ord
       RETURNING envelopes.id, envelopes.recipient, octet_length(envelopes.body) AS len
     ),
     paired AS (
       SELECT o.ord, i.id FROM
         (SELECT admitted.ord, row_number() OVER (ORDER BY admitted.ord) AS k FROM admitted) AS o
         JOIN (SELECT stored.id, row_number() OVER (ORDER BY stored.id) AS k FROM stored) AS i ON i.k = o.k
     ),
     gone AS (
       DELETE FROM envelopes AS e
        USING unnest(p_ack_users, p_ack_ids, p_ack_inputs) AS a (u, id, k)
        WHERE e.id = a.id AND e.recipient = a.u
       RETURNING a.k, e.recipient, octet_length(e.body) AS len
     ),
     delta AS (
       SELECT x.r, sum(x.dc)::integer AS dc, sum(x.db)::bigint AS db FROM (
         SELECT stored.recipient AS r, 1 AS dc, stored.len AS db FROM stored
         UNION ALL
         SELECT gone.recipient, -1, -gone.len FROM gone
       ) AS x GROUP BY x.r
     ),
     usage AS (
       INSERT INTO mailbox_usage AS m (username, envelopes, bytes)
       SELECT delta.r, delta.dc, delta.db FROM delta ORDER BY delta.r
       ON CONFLICT (username) DO UPDATE
         SET envelopes = m.envelopes + excluded.envelopes, bytes = m.bytes + excluded.bytes
       RETURNING 1
     )
     SELECT 'i'::text, ins.ord, paired.id,
            CASE WHEN paired.id IS NOT NULL THEN NULL
                 WHEN ins.run_count > p_max_count THEN 'count' ELSE 'bytes' END,
            NULL::integer, NULL::bigint
       FROM ins LEFT JOIN paired ON paired.ord = ins.ord
     UNION ALL
     SELECT 'a'::text, gone.k, NULL::bigint, NULL::text, count(*)::integer, sum(gone.len)::bigint
       FROM gone GROUP BY gone.k;
   END
   $fn$;`
,
  `CREATE TABLE mailbox_sender_usage (
     username text NOT NULL,
     sender text NOT NULL,
     envelopes integer NOT NULL,
     bytes bigint NOT NULL,
     PRIMARY KEY (username, sender)
   );
   INSERT INTO mailbox_sender_usage (username, sender, envelopes, bytes)
     SELECT recipient, sender, count(*), sum(octet_length(body)) FROM envelopes GROUP BY recipient, sender;
   ALTER TABLE account_records ADD COLUMN takeover_key bytea;
   CREATE TABLE issuer (
     id integer PRIMARY KEY CHECK (id = 1),
     private_key bytea NOT NULL,
     public_key bytea NOT NULL
   );
   DROP FUNCTION parley_mailbox_batch(text[], text[], bigint[], bytea[], text[], bigint[], integer[], integer, bigint);

   -- The group commit, v2: v1 plus the sender share, 'before' per insert and the NOTIFY; the
   -- bodies arrive as ONE bytea (sent in binary) with their lengths, not as a bytea[] the driver
   -- would spell out in hex text.
   CREATE FUNCTION parley_mailbox_batch(
     p_recipients text[], p_senders text[], p_received_at bigint[], p_lengths integer[], p_bodies bytea,
     p_ack_users text[], p_ack_ids bigint[], p_ack_inputs integer[],
     p_max_count integer, p_max_bytes bigint, p_sender_max_count integer, p_sender_max_bytes bigint,
     p_channel text, p_origin text)
   RETURNS TABLE (kind text, idx integer, id bigint, refusal text, n integer, bytes bigint, before bigint)
   LANGUAGE plpgsql AS $fn$
   #variable_conflict use_column
   DECLARE
     v_name text;
     v_payload text := p_origin;
   BEGIN
     -- 1. Lock every touched mailbox, in one global order (as v1).
     PERFORM 1 FROM mailbox_usage AS u
       WHERE u.username = ANY (p_recipients || p_ack_users)
       ORDER BY u.username FOR UPDATE;
     -- 2. One statement (a fresh snapshot, taken after the locks): admit, insert, delete, count.
     RETURN QUERY
     WITH src AS (
       SELECT x.ord, x.r, x.s, x.a,
              substring(p_bodies FROM (sum(x.l) OVER (ORDER BY x.ord) - x.l + 1)::integer FOR x.l) AS b
         FROM unnest(p_recipients, p_senders, p_received_at, p_lengths) WITH ORDINALITY AS x (r, s, a, l, ord)
     ),
     ins AS (
       SELECT t.ord::integer AS ord, t.r, t.s, t.a, t.b,
              coalesce(u.envelopes, 0) + count(*) OVER w AS run_count,
              coalesce(u.bytes, 0) + sum(octet_length(t.b)) OVER w AS run_bytes,
              coalesce(su.envelopes, 0) + count(*) OVER ws AS run_scount,
              coalesce(su.bytes, 0) + sum(octet_length(t.b)) OVER ws AS run_sbytes
         FROM src AS t
         LEFT JOIN mailbox_usage AS u ON u.username = t.r
         LEFT JOIN mailbox_sender_usage AS su ON su.username = t.r AND su.sender = t.s
       WINDOW w AS (PARTITION BY t.r ORDER BY t.ord ROWS UNBOUNDED PRECEDING),
              ws AS (PARTITION BY t.r, t.s ORDER BY t.ord ROWS UNBOUNDED PRECEDING)
     ),
     -- FIFO: running totals count refused envelopes too (v1); the sender's share likewise.
     admitted AS (
       SELECT ins.ord, ins.r, ins.s, ins.a, ins.b FROM ins
        WHERE ins.run_count <= p_max_count AND ins.run_bytes <= p_max_bytes
          AND ins.run_scount <= p_sender_max_count AND ins.run_sbytes <= p_sender_max_bytes
     ),
     stored AS (
       INSERT INTO envelopes (recipient, sender, received_at, body)
       SELECT admitted.r, admitted.s, admitted.a, admitted.b FROM admitted ORDER BY admitted.ord
       RETURNING envelopes.id, envelopes.recipient, envelopes.sender, octet_length(envelopes.body) AS len
     ),
     paired AS (
       SELECT o.ord, o.r, i.id FROM
         (SELECT admitted.ord, admitted.r, row_number() OVER (ORDER BY admitted.ord) AS k FROM admitted) AS o
         JOIN (SELECT stored.id, row_number() OVER (ORDER BY stored.id) AS k FROM stored) AS i ON i.k = o.k
     ),
     -- The mailbox's highest id before each insert: the previous insert of this batch, or what
     -- the snapshot (taken under the lock, before this statement's writes) holds.
     prior AS (
       SELECT paired.ord, coalesce(lag(paired.id) OVER (PARTITION BY paired.r ORDER BY paired.ord),
              (SELECT coalesce(max(e.id), 0) FROM envelopes AS e WHERE e.recipient = paired.r)) AS before
         FROM paired
     ),
     gone AS (
       DELETE FROM envelopes AS e
        USING unnest(p_ack_users, p_ack_ids, p_ack_inputs) AS a (u, id, k)
        WHERE e.id = a.id AND e.recipient = a.u
       RETURNING a.k, e.recipient, e.sender, octet_length(e.body) AS len
     ),
     moved AS (
       SELECT stored.recipient AS r, stored.sender AS s, 1 AS dc, stored.len::bigint AS db FROM stored
       UNION ALL
       SELECT gone.recipient, gone.sender, -1, -gone.len::bigint FROM gone
     ),
     delta AS (
       SELECT moved.r, sum(moved.dc)::integer AS dc, sum(moved.db)::bigint AS db FROM moved GROUP BY moved.r
     ),
     sdelta AS (
       SELECT moved.r, moved.s, sum(moved.dc)::integer AS dc, sum(moved.db)::bigint AS db FROM moved GROUP BY moved.r, moved.s
     ),
     usage AS (
       INSERT INTO mailbox_usage AS m (username, envelopes, bytes)
       SELECT delta.r, delta.dc, delta.db FROM delta ORDER BY delta.r
       ON CONFLICT (username) DO UPDATE
         SET envelopes = m.envelopes + excluded.envelopes, bytes = m.bytes + excluded.bytes
       RETURNING 1
     ),
     susage AS (
       INSERT INTO mailbox_sender_usage AS m (username, sender, envelopes, bytes)
       SELECT sdelta.r, sdelta.s, sdelta.dc, sdelta.db FROM sdelta ORDER BY sdelta.r, sdelta.s
       ON CONFLICT (username, sender) DO UPDATE
         SET envelopes = m.envelopes + excluded.envelopes, bytes = m.bytes + excluded.bytes
       RETURNING 1
     )
     SELECT 'i'::text, ins.ord, paired.id,
            CASE WHEN paired.id IS NOT NULL THEN NULL
                 WHEN ins.run_count > p_max_count THEN 'count'
                 WHEN ins.run_bytes > p_max_bytes THEN 'bytes'
                 WHEN ins.run_scount > p_sender_max_count THEN 'senderCount'
                 ELSE 'senderBytes' END,
            NULL::integer, NULL::bigint, prior.before
       FROM ins LEFT JOIN paired ON paired.ord = ins.ord LEFT JOIN prior ON prior.ord = ins.ord
     UNION ALL
     SELECT 'a'::text, gone.k, NULL::bigint, NULL::text, count(*)::integer, sum(gone.len)::bigint, NULL::bigint
       FROM gone GROUP BY gone.k;
     -- 3. Live push (pg/bus.ts): the mailboxes written, delivered to listeners only on COMMIT.
     --    Payload: origin instance, then usernames, each notification under the 8000-byte cap.
     IF p_channel IS NOT NULL AND cardinality(p_recipients) > 0 THEN
       FOR v_name IN SELECT DISTINCT t.r FROM unnest(p_recipients) AS t (r) LOOP
         IF octet_length(v_payload) + octet_length(v_name) + 1 > 7900 THEN
           PERFORM pg_notify(p_channel, v_payload);
           v_payload := p_origin;
         END IF;
         v_payload := v_payload || ' ' || v_name;
       END LOOP;
       PERFORM pg_notify(p_channel, v_payload);
     END IF;
   END
   $fn$;`,
  // v3: PL/pgSQL caches its statements' plans; after five calls the batch ran on a GENERIC plan
  // made while `envelopes` was small, which reads the whole table for each insert's `before`
  // (and for the acks' join) once it has grown: a 4,000-envelope batch took 2.6 s on a 20,000-row
  // table, 8,000 took 10 s, and the batches behind it queued (tests/bench/pg-batch-probe.ts).
  // Planned afresh per call (about a millisecond) it uses the (recipient, id) index: 134 ms.
  `ALTER FUNCTION parley_mailbox_batch(text[], text[], bigint[], integer[], bytea, text[], bigint[], integer[], integer, bigint, integer, bigint, text, text)
     SET plan_cache_mode = force_custom_plan;`,
  // v4: the sender shares (P40) cost a second row update per envelope stored and acked, 20–30%
  // of the batch (tests/bench/pg-steady-probe.ts), though no sender can exceed its share of a
  // mailbox that holds less than one share in all. A mailbox now keeps its senders' shares only
  // from the batch that could take it past one share (counted once from its envelopes then) until
  // a batch empties it. The kept rows of v2 are dropped: every mailbox starts on the cheap path.
  `ALTER TABLE mailbox_usage ADD COLUMN shares boolean NOT NULL DEFAULT false;
   TRUNCATE mailbox_sender_usage;
   CREATE OR REPLACE FUNCTION parley_mailbox_batch(
     p_recipients text[], p_senders text[], p_received_at bigint[], p_lengths integer[], p_bodies bytea,
     p_ack_users text[], p_ack_ids bigint[], p_ack_inputs integer[],
     p_max_count integer, p_max_bytes bigint, p_sender_max_count integer, p_sender_max_bytes bigint,
     p_channel text, p_origin text)
   RETURNS TABLE (kind text, idx integer, id bigint, refusal text, n integer, bytes bigint, before bigint)
   LANGUAGE plpgsql AS $fn$
   #variable_conflict use_column
   DECLARE
     v_name text;
     v_payload text := p_origin;
   BEGIN
     -- 1. Lock every touched mailbox, in one global order (as v1).
     PERFORM 1 FROM mailbox_usage AS u
       WHERE u.username = ANY (p_recipients || p_ack_users)
       ORDER BY u.username FOR UPDATE;
     -- 1b. (v4) A mailbox whose total, with this whole batch, could exceed one sender's share
     --     starts keeping its senders' shares: counted once from its envelopes, kept from then on.
     --     Below that no sender can exceed the share, so nothing per sender is read or written.
     WITH b AS (
       SELECT x.r, count(*) AS n, sum(x.l) AS l FROM unnest(p_recipients, p_lengths) AS x (r, l) GROUP BY x.r
     ),
     newly AS (
       UPDATE mailbox_usage AS u SET shares = true FROM b
        WHERE u.username = b.r AND NOT u.shares
          AND (u.envelopes + b.n > p_sender_max_count OR u.bytes + b.l > p_sender_max_bytes)
       RETURNING u.username
     )
     INSERT INTO mailbox_sender_usage AS m (username, sender, envelopes, bytes)
       SELECT e.recipient, e.sender, count(*), sum(octet_length(e.body))
         FROM envelopes AS e JOIN newly ON e.recipient = newly.username
        GROUP BY e.recipient, e.sender
       ON CONFLICT (username, sender) DO UPDATE SET envelopes = excluded.envelopes, bytes = excluded.bytes;
     -- 2. One statement (a fresh snapshot, taken after the locks): admit, insert, delete, count.
     RETURN QUERY
     WITH src AS (
       SELECT x.ord, x.r, x.s, x.a,
              substring(p_bodies FROM (sum(x.l) OVER (ORDER BY x.ord) - x.l + 1)::integer FOR x.l) AS b
         FROM unnest(p_recipients, p_senders, p_received_at, p_lengths) WITH ORDINALITY AS x (r, s, a, l, ord)
     ),
     ins AS (
       SELECT t.ord::integer AS ord, t.r, t.s, t.a, t.b,
              coalesce(u.envelopes, 0) + count(*) OVER w AS run_count,
              coalesce(u.bytes, 0) + sum(octet_length(t.b)) OVER w AS run_bytes,
              coalesce(su.envelopes, 0) + count(*) OVER ws AS run_scount,
              coalesce(su.bytes, 0) + sum(octet_length(t.b)) OVER ws AS run_sbytes
         FROM src AS t
         LEFT JOIN mailbox_usage AS u ON u.username = t.r
         LEFT JOIN mailbox_sender_usage AS su ON u.shares AND su.username = t.r AND su.sender = t.s
       WINDOW w AS (PARTITION BY t.r ORDER BY t.ord ROWS UNBOUNDED PRECEDING),
              ws AS (PARTITION BY t.r, t.s ORDER BY t.ord ROWS UNBOUNDED PRECEDING)
     ),
     -- FIFO: running totals count refused envelopes too (v1); the sender's share likewise.
     admitted AS (
       SELECT ins.ord, ins.r, ins.s, ins.a, ins.b FROM ins
        WHERE ins.run_count <= p_max_count AND ins.run_bytes <= p_max_bytes
          AND ins.run_scount <= p_sender_max_count AND ins.run_sbytes <= p_sender_max_bytes
     ),
     stored AS (
       INSERT INTO envelopes (recipient, sender, received_at, body)
       SELECT admitted.r, admitted.s, admitted.a, admitted.b FROM admitted ORDER BY admitted.ord
       RETURNING envelopes.id, envelopes.recipient, envelopes.sender, octet_length(envelopes.body) AS len
     ),
     paired AS (
       SELECT o.ord, o.r, i.id FROM
         (SELECT admitted.ord, admitted.r, row_number() OVER (ORDER BY admitted.ord) AS k FROM admitted) AS o
         JOIN (SELECT stored.id, row_number() OVER (ORDER BY stored.id) AS k FROM stored) AS i ON i.k = o.k
     ),
     -- The mailbox's highest id before each insert: the previous insert of this batch, or what
     -- the snapshot (taken under the lock, before this statement's writes) holds.
     prior AS (
       SELECT paired.ord, coalesce(lag(paired.id) OVER (PARTITION BY paired.r ORDER BY paired.ord),
              (SELECT coalesce(max(e.id), 0) FROM envelopes AS e WHERE e.recipient = paired.r)) AS before
         FROM paired
     ),
     gone AS (
       DELETE FROM envelopes AS e
        USING unnest(p_ack_users, p_ack_ids, p_ack_inputs) AS a (u, id, k)
        WHERE e.id = a.id AND e.recipient = a.u
       RETURNING a.k, e.recipient, e.sender, octet_length(e.body) AS len
     ),
     moved AS (
       SELECT stored.recipient AS r, stored.sender AS s, 1 AS dc, stored.len::bigint AS db FROM stored
       UNION ALL
       SELECT gone.recipient, gone.sender, -1, -gone.len::bigint FROM gone
     ),
     delta AS (
       SELECT moved.r, sum(moved.dc)::integer AS dc, sum(moved.db)::bigint AS db FROM moved GROUP BY moved.r
     ),
     -- (v4) Only mailboxes that keep their senders' shares (1b) update them.
     sdelta AS (
       SELECT moved.r, moved.s, sum(moved.dc)::integer AS dc, sum(moved.db)::bigint AS db
         FROM moved JOIN mailbox_usage AS k ON k.username = moved.r AND k.shares
        GROUP BY moved.r, moved.s
     ),
     usage AS (
       INSERT INTO mailbox_usage AS m (username, envelopes, bytes)
       SELECT delta.r, delta.dc, delta.db FROM delta ORDER BY delta.r
       ON CONFLICT (username) DO UPDATE
         SET envelopes = m.envelopes + excluded.envelopes, bytes = m.bytes + excluded.bytes
       RETURNING 1
     ),
     susage AS (
       INSERT INTO mailbox_sender_usage AS m (username, sender, envelopes, bytes)
       SELECT sdelta.r, sdelta.s, sdelta.dc, sdelta.db FROM sdelta ORDER BY sdelta.r, sdelta.s
       ON CONFLICT (username, sender) DO UPDATE
         SET envelopes = m.envelopes + excluded.envelopes, bytes = m.bytes + excluded.bytes
       RETURNING 1
     )
     SELECT 'i'::text, ins.ord, paired.id,
            CASE WHEN paired.id IS NOT NULL THEN NULL
                 WHEN ins.run_count > p_max_count THEN 'count'
                 WHEN ins.run_bytes > p_max_bytes THEN 'bytes'
                 WHEN ins.run_scount > p_sender_max_count THEN 'senderCount'
                 ELSE 'senderBytes' END,
            NULL::integer, NULL::bigint, prior.before
       FROM ins LEFT JOIN paired ON paired.ord = ins.ord LEFT JOIN prior ON prior.ord = ins.ord
     UNION ALL
     SELECT 'a'::text, gone.k, NULL::bigint, NULL::text, count(*)::integer, sum(gone.len)::bigint, NULL::bigint
       FROM gone GROUP BY gone.k;
     -- 2b. (v4) A mailbox this batch emptied stops keeping shares (they are all zero): the next
     --     batches to it take the cheap path until it fills past a share again.
     WITH emptied AS (
       UPDATE mailbox_usage AS u SET shares = false
        WHERE u.username = ANY (p_recipients || p_ack_users) AND u.shares AND u.envelopes = 0
       RETURNING u.username
     )
     DELETE FROM mailbox_sender_usage AS m USING emptied WHERE m.username = emptied.username;
     -- 3. Live push (pg/bus.ts): the mailboxes written, delivered to listeners only on COMMIT.
     --    Payload: origin instance, then usernames, each notification under the 8000-byte cap.
     IF p_channel IS NOT NULL AND cardinality(p_recipients) > 0 THEN
       FOR v_name IN SELECT DISTINCT t.r FROM unnest(p_recipients) AS t (r) LOOP
         IF octet_length(v_payload) + octet_length(v_name) + 1 > 7900 THEN
           PERFORM pg_notify(p_channel, v_payload);
           v_payload := p_origin;
         END IF;
         v_payload := v_payload || ' ' || v_name;
       END LOOP;
       PERFORM pg_notify(p_channel, v_payload);
     END IF;
   END
   $fn$
   SET plan_cache_mode = force_custom_plan;`
];
