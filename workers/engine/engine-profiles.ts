/**
 * The engine's private-profile and username-link methods (SECURITY.md P43; README "Design:
 * private discovery"): the contract's thin facade over profiles.ts and username-links.ts. Engine
 * (engine.ts) inherits them, so the vault contract stays one class the worker delegates to
 * (vault-api.ts). Owns no state; knows nothing of connections, tabs or the driver lock.
 */
import type { Username } from '../../src/lib/codec/username';
import type { ProfileSaved, ProfileView } from '../../src/lib/vault/views';
import * as profiles from './profiles';
import * as links from './username-links';
import { EngineSearch } from './engine-search';

export abstract class EngineProfiles extends EngineSearch {
  myProfile(): Promise<ProfileView> {
    return profiles.myProfile(this.ctx);
  }

  setProfile(p: ProfileView): Promise<ProfileSaved> {
    return profiles.setProfile(this.ctx, p);
  }

  usernameLink(): Promise<string> {
    return links.usernameLink(this.ctx);
  }

  resetUsernameLink(): Promise<string> {
    return links.resetUsernameLink(this.ctx);
  }

  openUsernameLink(link: string): Promise<{ username: Username }> {
    return links.openUsernameLink(this.ctx, link);
  }
}
