/**
 * What the attachment tray and the voice button say when a file fails to send (README
 * "Attachments"): one sentence per code the vault's upload can fail with. The host's upload
 * budget (P40) is said as a limit to wait out, not as the server being unreachable.
 */
/** `what`: the failed action as the button names it ("Upload", "Sending"). */
export function uploadErrorText(code: string, what: 'Upload' | 'Sending'): string {
  if (code === 'TooLarge') return 'This file is too large to send.';
  if (code === 'Unavailable') return `${what} failed: the server cannot be reached.`;
  if (code === 'RateLimited') return 'This server limits how much you can upload for now. Try again later.';
  return `${what} failed (${code}).`;
}
