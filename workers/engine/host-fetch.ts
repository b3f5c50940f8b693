/**
 * One HTTP exchange with the host, the same way for every caller (the host API, attachment blobs,
 * owner-written blobs, account records): a request that never reaches the host is Unavailable; an
 * answer that is not ok is the refusal its host error body names (host-refusal.ts), an unreadable
 * body counting as Unknown. Messages carry the status and code only, never a body. Knows nothing
 * of what is sent or of credentials.
 */
import { fail, isCodedError, type CodedError } from '../../src/lib/codec/errors';
import { decodeHostError } from '../../src/lib/wire/host-api';
import { engineFail } from './errors';
import { hostRefusal } from './host-refusal';

/** `fetchImpl(url, init)`, with a network failure as Unavailable. */
export async function reachHost(fetchImpl: typeof fetch, url: URL, init: RequestInit): Promise<Response> {
  try {
    return await fetchImpl(url, init);
  } catch {
    return engineFail('Unavailable', 'host unreachable');
  }
}

/** The largest JSON answer read (a bundle with its ML-KEM key is a few KB; the host's largest answers are well under this). */
export const MAX_JSON_ANSWER_BYTES = 1024 * 1024;

/**
 * The body of `res`, refused past `max` bytes: by its Content-Length when it gives one, else while
 * reading, so no more than `max` and one chunk is ever held. A host (or whatever answers in its
 * place) must not make the client hold what it likes, least of all on paths the client takes by
 * itself (a group sync, a profile refresh). Past the bound: a ProtocolError (DecodeFailed), which
 * every caller already treats as a bad answer; a body cut off: Unavailable.
 */
export async function readBody(res: Response, max: number, what: string): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel().catch(() => undefined);
    return fail('DecodeFailed', `${what}: the host declared ${declared} bytes, at most ${max} are read`);
  }
  if (!res.body) {
    const whole = new Uint8Array(await res.arrayBuffer());
    if (whole.length > max) fail('DecodeFailed', `${what}: ${whole.length} bytes, at most ${max} are read`);
    return whole;
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let step: ReadableStreamReadResult<Uint8Array>;
    try {
      step = await reader.read();
    } catch {
      return engineFail('Unavailable', `${what}: the answer was cut off`);
    }
    if (step.done) break;
    total += step.value.length;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      return fail('DecodeFailed', `${what}: more than ${max} bytes`);
    }
    chunks.push(step.value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** An answer's JSON body (at most MAX_JSON_ANSWER_BYTES), or undefined when it has none or it is not JSON. */
export async function answerJson(res: Response): Promise<unknown> {
  try {
    return JSON.parse(new TextDecoder().decode(await readBody(res, MAX_JSON_ANSWER_BYTES, 'host answer')));
  } catch (e) {
    if (isCodedError(e)) throw e;
    return undefined;
  }
}

/** The host error code of a refused answer ('Unknown' when its body is not the host's error shape). */
export async function refusedCode(res: Response): Promise<string> {
  return decodeHostError(await answerJson(res)).code;
}

/** The error a refused answer stands for. */
export async function refusalOf(res: Response): Promise<CodedError> {
  return hostRefusal(await refusedCode(res), res.status);
}
