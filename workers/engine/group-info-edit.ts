/**
 * Editing a group's info (README "Groups": group info; SECURITY.md P19): the name, description
 * and picture change by a signed change like any membership change (`changeGroup`), so every
 * member applies it under the same rules — refused from a non-member, from a member who is not
 * an admin while editInfo is 'admins', from the host (no identity in the state), or against an
 * older version — and each member's conversation gets a notice saying who changed what
 * (group-apply.ts). The picture is carried inline in the state (limits.ts MAX_AVATAR_BYTES), so
 * it is encrypted wherever the state is: pairwise inside the ratchet and sealed in the state blob.
 *
 * Only what differs from our head goes into the change; an edit that changes nothing sends
 * nothing. The page re-encodes the picture (avatar-image.ts: EXIF and every other block gone);
 * here it must at least be a JPEG of bounded size. Knows nothing of the UI.
 */
import { fail } from '../../src/lib/codec/errors';
import { bytesEqual } from '../../src/lib/codec/bytes';
import type { GroupAction } from '../../src/lib/crypto/group/group-change';
import { MAX_AVATAR_BYTES, MAX_DESCRIPTION_BYTES, MAX_NAME_BYTES } from '../../src/lib/crypto/group/limits';
import { textBytes } from '../../src/lib/crypto/group/text';
import type { GroupInfoEdit } from '../../src/lib/vault/group-views';
import type { EngineContext } from './context';
import { changeGroup, requireGroup } from './group-ops';

/** A JPEG starts with SOI and a marker (FF D8 FF) and ends with EOI (FF D9). */
function checkAvatar(a: Uint8Array): void {
  if (a.length < 4 || a.length > MAX_AVATAR_BYTES) fail('InvalidArgument', `picture of ${a.length} bytes, expected 4..${MAX_AVATAR_BYTES}`);
  const jpeg = a[0] === 0xff && a[1] === 0xd8 && a[2] === 0xff && a[a.length - 2] === 0xff && a[a.length - 1] === 0xd9;
  if (!jpeg) fail('InvalidArgument', `picture of ${a.length} bytes is not a JPEG`);
}

/** The actions that take our head to `edit` (fields left out stay as they are). */
export function infoActions(head: { name: string; description: string; avatar: Uint8Array | null }, edit: GroupInfoEdit): GroupAction[] {
  const out: GroupAction[] = [];
  if (edit.name !== undefined) {
    const name = edit.name.trim();
    if (name.length === 0) fail('InvalidArgument', 'a group name cannot be empty');
    textBytes('name', name, MAX_NAME_BYTES);
    if (name !== head.name) out.push({ type: 'setName', name });
  }
  if (edit.description !== undefined) {
    const description = edit.description.trim();
    textBytes('description', description, MAX_DESCRIPTION_BYTES);
    if (description !== head.description) out.push({ type: 'setDescription', description });
  }
  if (edit.avatar !== undefined) {
    const avatar = edit.avatar && edit.avatar.length > 0 ? edit.avatar : null;
    if (avatar) checkAvatar(avatar);
    const same = avatar === null ? head.avatar === null : head.avatar !== null && bytesEqual(avatar, head.avatar);
    if (!same) out.push({ type: 'setAvatar', avatar: avatar && avatar.slice() });
  }
  return out;
}

/** Signs and sends the edit (P19 refusals as `changeGroup`: NotPermitted, NotGroupMember). */
export async function editGroupInfo(ctx: EngineContext, id: string, edit: GroupInfoEdit): Promise<void> {
  const g = await requireGroup(ctx, id);
  const actions = infoActions(g.history.head, edit);
  if (actions.length === 0) return;
  await changeGroup(ctx, id, actions);
}
