/**
 * One HTTP exchange with the host, the same way for every caller (the host API, attachment blobs,
 * owner-written blobs, account records): a request that never reaches the host is Unavailable; an
 * answer that is not ok is the refusal its host error body names (host-refusal.ts), an unreadable
 * body counting as Unknown. Messages carry the status and code only, never a body. Knows nothing
 * of what is sent or of credentials.
 */
import type { CodedError } from '../../src/lib/codec/errors';
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

/** An answer's JSON body, or undefined when it has none. */
export async function answerJson(res: Response): Promise<unknown> {
  try {
    return await res.json();
  } catch {
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
