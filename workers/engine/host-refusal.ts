/**
 * What a refusal from the host means for the client: one rule for HTTP answers and for a
 * WebSocket Error frame (host-api.ts HostErrorCode). Accounts and reachability become engine
 * codes the UI acts on; a refused signature or request is a protocol error. Knows nothing of
 * transports.
 */
import { ProtocolError, type CodedError } from '../../src/lib/codec/errors';
import { EngineError, type EngineErrorCode } from './errors';

export type RefusalCode = EngineErrorCode | 'InvalidSignature' | 'InvalidArgument';

/** `status` is the HTTP status when there is one (0 for a socket frame). */
export function refusalCode(code: string, status = 0): RefusalCode {
  if (code === 'NoSuchUser' || code === 'UsernameTaken' || code === 'SignedOut') return code;
  if (status >= 500 || ['Internal', 'Unknown', 'RateLimited', 'QuotaExceeded', 'Unavailable'].includes(code)) return 'Unavailable';
  if (code === 'Unauthorized') return 'InvalidSignature';
  return 'InvalidArgument';
}

export function hostRefusal(code: string, status = 0): CodedError {
  const mapped = refusalCode(code, status);
  const message = status ? `host answered ${status} ${code}` : `host answered ${code}`;
  return mapped === 'InvalidSignature' || mapped === 'InvalidArgument' ? new ProtocolError(mapped, message) : new EngineError(mapped, message);
}
