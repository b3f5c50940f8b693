/**
 * What the attachment tray and the voice button say when a file fails to send (README
 * "Attachments"): the host's upload budget (429, P40) reads as a limit to wait out, never as the
 * server being unreachable, and an unknown code still names what failed.
 */
import { describe, expect, it } from 'vitest';
import { uploadErrorText } from '../../src/lib/ui/upload-error-text';

describe('upload error text', () => {
  it('the upload budget is a limit to wait out, not an unreachable server', () => {
    for (const what of ['Upload', 'Sending'] as const) {
      const text = uploadErrorText('RateLimited', what);
      expect(text).toMatch(/limits how much you can upload/);
      expect(text).not.toMatch(/cannot be reached/);
      expect(text).not.toContain('RateLimited');
    }
  });

  it('unreachable, too large, and anything else say what failed', () => {
    expect(uploadErrorText('Unavailable', 'Upload')).toBe('Upload failed: the server cannot be reached.');
    expect(uploadErrorText('Unavailable', 'Sending')).toBe('Sending failed: the server cannot be reached.');
    expect(uploadErrorText('TooLarge', 'Sending')).toBe('This file is too large to send.');
    expect(uploadErrorText('Tampered', 'Upload')).toBe('Upload failed (Tampered).');
  });
});
