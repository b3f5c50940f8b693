/**
 * The vault's side of the Web Push routes (src/lib/wire/push-api.ts; README "Web Push with the
 * tab closed"): registers or deletes this browser's push endpoint for the signed-in account. The
 * bearer token never leaves the worker, so the page asks the vault to do it. An endpoint the host
 * no longer has counts as deleted. Knows nothing of service workers or PushManager.
 */
import { fail } from '../../src/lib/codec/errors';
import { MAX_PUSH_ENDPOINT_CHARS, PUSH_API } from '../../src/lib/wire/push-api';
import { hostAuth } from './account';
import { requireMe, type EngineContext } from './context';
import { engineFail } from './errors';
import { refusedCode } from './host-fetch';
import { hostRefusal } from './host-refusal';

async function call(ctx: EngineContext, method: 'PUT' | 'DELETE', endpoint: string): Promise<Response> {
  if (typeof endpoint !== 'string' || endpoint.length === 0 || endpoint.length > MAX_PUSH_ENDPOINT_CHARS) {
    fail('InvalidArgument', `a push endpoint of ${String(endpoint).length} characters`);
  }
  const me = requireMe(ctx);
  const f = ctx.transport.authedFetch?.bind(ctx.transport);
  if (!f) return engineFail('Unavailable', 'this host transport carries no push registration');
  return f(hostAuth(me), PUSH_API.subscription, { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ endpoint }) });
}

export async function registerPush(ctx: EngineContext, endpoint: string): Promise<void> {
  const res = await call(ctx, 'PUT', endpoint);
  if (!res.ok) throw hostRefusal(await refusedCode(res), res.status);
}

export async function unregisterPush(ctx: EngineContext, endpoint: string): Promise<void> {
  const res = await call(ctx, 'DELETE', endpoint);
  if (!res.ok && res.status !== 404) throw hostRefusal(await refusedCode(res), res.status);
}
