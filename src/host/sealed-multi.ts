/**
 * The multi-recipient sealed send on the host (SECURITY.md P41; sealed sender v2,
 * crypto/sealed-sender-v2.ts; route and framing in src/lib/wire/sealed-multi-api.ts; README
 * "Groups"): ONE unauthenticated upload, fanned out to each recipient's mailbox.
 *
 * - Admission: every recipient must admit it: the token given for recipient i must open i's
 *   SealedAccess (or i takes sealed mail from anyone), exactly as the single sealed send
 *   (sealed.ts). All tokens are checked before anything is stored; one that fails refuses the
 *   whole upload (401 Unauthorized, which recipient is not said: no oracle for which accounts
 *   exist or who blocked the sender), so a refusal never leaves a partial delivery behind and the
 *   sender can fall back to its authenticated fan-out for everyone.
 * - Storage: each recipient's mailbox gets its own "received" form (48 bytes of key material and
 *   the shared payload) with an EMPTY sender, like every sealed envelope, and it is pushed over
 *   the socket by the mailbox as usual. A storage refusal (full disk, P40) after admission is per
 *   mailbox, as the authenticated group fan-out: the answer counts stored and refused copies,
 *   and if none was stored the upload is refused for a retry.
 * - Rate: the same per-address limiter as single sealed sends (one hit per upload).
 * - Nothing here logs, stores or keeps who sent it; the recipient list is used once, never stored
 *   as a list. No linked devices yet (DESIGN.md §4): each recipient must list device 1 only.
 *
 * Knows nothing of what is inside the payload, of groups, or of sockets.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isProtocolError } from '../lib/codec/errors';
import { USERNAME_MAX } from '../lib/codec/username';
import { DELIVERY_TOKEN_LEN, decodeSealedAccess, mayDeliverSealed } from '../lib/crypto/delivery-token';
import { MAX_V2_RECIPIENTS, V2_KEY_MATERIAL_LEN, parseSealedSenderV2Sent, receivedSealedSenderV2, type V2SentMessage } from '../lib/crypto/sealed-sender-v2';
import { SEALED_MULTI_PATH, decodeSealedMultiUpload } from '../lib/wire/sealed-multi-api';
import { addressBucket } from './client-address';
import { HostError, clientIp, readBody, requestPath, sendJson } from './http-util';
import type { Limits } from './limits';
import type { Mailbox } from './mailbox';
import { SEALED_SENDER } from './sealed';
import type { SealedStore } from './storage/sealed-port';

export interface SealedMultiDeps {
  store: Pick<SealedStore, 'getAccess'>;
  mailbox: Mailbox;
  limits: Limits;
  /** The per-address limiter single sealed sends use (server.ts passes the shared one). */
  perIp: { hit(key: string): number | Promise<number> };
}

/** Per recipient in the sent form: username, one device, key material; plus its token frame. */
const PER_RECIPIENT_MAX = 1 + DELIVERY_TOKEN_LEN + 1 + USERNAME_MAX + 1 + 4 + V2_KEY_MATERIAL_LEN;

function parse(body: Uint8Array, maxEnvelope: number): { tokens: readonly (Uint8Array | undefined)[]; sent: V2SentMessage } {
  try {
    const upload = decodeSealedMultiUpload(body);
    const sent = parseSealedSenderV2Sent(upload.sent, upload.sent.length);
    return { tokens: upload.tokens, sent };
  } catch (e) {
    throw new HostError(400, 'BadRequest', isProtocolError(e) ? e.message : `malformed sealed upload (limit ${maxEnvelope})`);
  }
}

export function createSealedMulti(d: SealedMultiDeps): { handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> } {
  const maxBody = 2 + 3 + MAX_V2_RECIPIENTS * PER_RECIPIENT_MAX + d.limits.maxEnvelopeBytes;

  async function send(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const wait = await d.perIp.hit(addressBucket(clientIp(req)));
    if (wait) throw new HostError(429, 'RateLimited', 'too many sealed sends from this address', wait);
    const { tokens, sent } = parse(await readBody(req, maxBody), d.limits.maxEnvelopeBytes);
    if (tokens.length !== sent.recipients.length) throw new HostError(400, 'BadRequest', `${tokens.length} delivery tokens for ${sent.recipients.length} recipients`);
    if (sent.recipients.some((r) => r.devices.length !== 1 || r.devices[0] !== 1)) throw new HostError(400, 'BadRequest', 'every recipient has device 1 only');
    const deliveredLength = 1 + V2_KEY_MATERIAL_LEN + sent.shared.length;
    if (deliveredLength > d.limits.maxEnvelopeBytes) throw new HostError(413, 'TooLarge', `envelope of ${deliveredLength} bytes exceeds ${d.limits.maxEnvelopeBytes}`);
    // All or nothing: every recipient's access is checked before anything is stored.
    const admitted = await Promise.all(
      sent.recipients.map(async (r, i) => {
        const stored = await d.store.getAccess(r.username);
        return stored !== undefined && mayDeliverSealed(decodeSealedAccess(stored), tokens[i]);
      })
    );
    const refusedCount = admitted.filter((ok) => !ok).length;
    if (refusedCount > 0) throw new HostError(401, 'Unauthorized', `${refusedCount} of ${admitted.length} recipients refuse this sealed upload; nothing was stored`);
    const results = await Promise.allSettled(sent.recipients.map((r) => d.mailbox.submit(SEALED_SENDER, r.username, receivedSealedSenderV2(r, sent))));
    const stored = results.filter((r) => r.status === 'fulfilled').length;
    if (stored === 0) {
      const first = results[0] as PromiseRejectedResult;
      throw first.reason instanceof HostError ? first.reason : new HostError(503, 'Unavailable', 'no copy was stored; retry later');
    }
    sendJson(res, 201, { stored, refused: results.length - stored });
  }

  return {
    async handle(req, res) {
      if (requestPath(req) !== SEALED_MULTI_PATH) return false;
      if (req.method !== 'POST') throw new HostError(405, 'BadRequest', 'method not allowed here');
      await send(req, res);
      return true;
    }
  };
}
