/**
 * Stored group histories, decoded, by their exact encoding (group-repo.ts; README "Groups",
 * *Reading a group*). Decoding replays every kept change (a new state, its SHA-256 and the
 * change's signature each): for a 1,000-member group with 32 kept changes that is 50-130 ms, and
 * every group message reads every group. Between membership changes the history field does not
 * change, so a read finds it here.
 *
 * Sound because the decode is a pure function of the bytes and histories are immutable values
 * (group-history.ts makes a new one per change): a hit is exactly what a fresh decode would give,
 * whichever vault, tab or read asked. Bounded by the total length of the encodings kept (a
 * decoded history takes about five times its base64 encoding in memory), least recently used out,
 * so a vault with many small groups keeps them all and one with a few large ones keeps what fits.
 * Plaintext of our own groups, in worker memory only, as every decoded record already is.
 */
import type { GroupHistory } from '../../src/lib/crypto/group/group-history';

export class HistoryMemo {
  private readonly decoded = new Map<string, GroupHistory>();
  private readonly encodings = new WeakMap<GroupHistory, string>();
  private held = 0;

  /** `budget`: the most encoding characters kept (the keys' total length). */
  constructor(private readonly budget: number) {}

  /** The history `encoded` stands for: from memory, or `decode`d and kept. */
  decode(encoded: string, decode: (encoded: string) => GroupHistory): GroupHistory {
    const hit = this.decoded.get(encoded);
    if (hit) {
      this.decoded.delete(encoded);
      this.decoded.set(encoded, hit);
      return hit;
    }
    const h = decode(encoded);
    this.encodings.set(h, encoded);
    if (encoded.length <= this.budget) {
      this.decoded.set(encoded, h);
      this.held += encoded.length;
      for (const [k] of this.decoded) {
        if (this.held <= this.budget) break;
        this.decoded.delete(k);
        this.held -= k.length;
      }
    }
    return h;
  }

  /** `h`'s encoding: the one it was decoded from or last encoded to, else `encode`d and noted. */
  encode(h: GroupHistory, encode: (h: GroupHistory) => string): string {
    let encoded = this.encodings.get(h);
    if (encoded === undefined) {
      encoded = encode(h);
      this.encodings.set(h, encoded);
    }
    return encoded;
  }

  /** Drops every decoded history (the vault locked: group names, members and pictures leave memory). */
  clear(): void {
    this.decoded.clear();
    this.held = 0;
  }

  /** How many decoded histories and encoding characters are kept (tests). */
  get size(): { histories: number; chars: number } {
    return { histories: this.decoded.size, chars: this.held };
  }
}
