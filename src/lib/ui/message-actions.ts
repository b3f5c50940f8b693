/**
 * What the message menu offers (README "Message actions"): the actions and who may take them.
 * The vault enforces the same rules (workers/engine/message-actions.ts, P47); these only decide
 * what the menu shows. Pure.
 */
import type { MessageView } from '../vault/views';

export type TextMessage = Extract<MessageView, { kind: 'text' }>;
export type MessageActionKind = 'reply' | 'react' | 'edit' | 'copy' | 'delete-me' | 'delete-all';
export type MessageAction = { kind: MessageActionKind; message: TextMessage; emoji?: string };

/** workers/engine/message-actions.ts ACTION_WINDOW_MS: own messages change for everyone within 24 h. */
export const ACTION_WINDOW_MS = 24 * 60 * 60_000;
/** The reactions the picker offers. */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏', '🎉', '🔥'] as const;

/** The menu items for `m` (a 1:1 or a group text, README "Groups": message actions), in order, with their labels. */
export function menuItems(m: Pick<TextMessage, 'deleted' | 'direction' | 'at'>, now: number): { kind: MessageActionKind; label: string }[] {
  if (m.deleted) return [{ kind: 'delete-me', label: 'Delete for me' }];
  const own = m.direction === 'out' && now - m.at < ACTION_WINDOW_MS;
  return [
    { kind: 'reply', label: 'Reply' },
    { kind: 'react', label: 'React' },
    ...(own ? [{ kind: 'edit' as const, label: 'Edit' }] : []),
    { kind: 'copy', label: 'Copy text' },
    { kind: 'delete-me', label: 'Delete for me' },
    ...(own ? [{ kind: 'delete-all' as const, label: 'Delete for everyone' }] : [])
  ];
}
