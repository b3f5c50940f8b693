/**
 * How a message's menu (MessageMenu.svelte) is reached, the same for a 1:1 bubble and a group
 * message: Enter, Shift+F10 or the menu key on the focused message, and where it opens (above the
 * message when the message sits in the lower half of the window).
 */
export function isMenuKey(e: KeyboardEvent): boolean {
  return e.key === 'Enter' || e.key === 'ContextMenu' || (e.key === 'F10' && e.shiftKey);
}

export function menuPlacement(message: Element | undefined): { above: boolean } {
  const r = message?.getBoundingClientRect();
  return { above: !!r && r.top > window.innerHeight / 2 };
}
