/**
 * A file dragged onto a screen that does not take files must not leave the app. A browser's
 * default for a dropped file is to open it in place of the page: the tab would leave Parley with
 * its drafts, a call, an upload in flight. A conversation that can send files takes the drop
 * itself (AttachButton.svelte, which cancels both events first); everywhere else this guard
 * cancels them and shows the "no drop" cursor. Other drags (text, links) keep their defaults.
 * Runs on the window in the bubbling phase and steps aside when a screen already took the event,
 * so the order of the two listeners does not matter.
 */
function carriesFiles(e: DragEvent): boolean {
  return e.dataTransfer?.types.includes('Files') ?? false;
}

export function guardFileDrops(target: Window): () => void {
  const over = (e: DragEvent): void => {
    if (e.defaultPrevented || !carriesFiles(e)) return;
    e.preventDefault();
    e.dataTransfer!.dropEffect = 'none';
  };
  const drop = (e: DragEvent): void => {
    if (!e.defaultPrevented && carriesFiles(e)) e.preventDefault();
  };
  target.addEventListener('dragover', over);
  target.addEventListener('drop', drop);
  return () => {
    target.removeEventListener('dragover', over);
    target.removeEventListener('drop', drop);
  };
}
