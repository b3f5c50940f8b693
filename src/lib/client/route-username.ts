/**
 * The person a route names (`/chat/[username]`): the canonical Username, or undefined when the
 * segment can never be a username (then the screen says so instead of asking the vault).
 */
import { canonicalUsername, type Username } from '../codec/username';

export function routeUsername(segment: string | undefined): Username | undefined {
  const u = canonicalUsername(segment ?? '');
  return typeof u === 'string' ? u : undefined;
}
