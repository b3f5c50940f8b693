/**
 * Reading a QR code from camera frames (DESIGN.md §4: scanning the other person's code verifies
 * them; SECURITY.md P3). The browser's BarcodeDetector where it reads QR codes; otherwise jsQR
 * (pure JavaScript, no network or wasm; 46 kB gzipped), loaded only when a scan starts so the
 * app's first load does not carry it. Returns the text a frame holds, if any; knows nothing of
 * what it means — the vault checks the payload against the key it would mark.
 */

/** A decoder for one frame: the QR text, or undefined when the frame shows none. */
export type QrDecoder = (frame: ImageData) => Promise<string | undefined>;

interface BarcodeDetectorLike {
  detect(source: ImageData): Promise<{ rawValue: string }[]>;
}
interface BarcodeDetectorCtor {
  new (options: { formats: string[] }): BarcodeDetectorLike;
  getSupportedFormats(): Promise<string[]>;
}

async function nativeDecoder(): Promise<QrDecoder | undefined> {
  const Detector = (globalThis as { BarcodeDetector?: BarcodeDetectorCtor }).BarcodeDetector;
  if (!Detector) return undefined;
  try {
    if (!(await Detector.getSupportedFormats()).includes('qr_code')) return undefined;
    const detector = new Detector({ formats: ['qr_code'] });
    return async (frame) => (await detector.detect(frame))[0]?.rawValue;
  } catch {
    return undefined;
  }
}

/** jsQR, loaded on first use. */
export async function libraryDecoder(): Promise<QrDecoder> {
  const { default: jsQR } = await import('jsqr');
  return async (frame) => jsQR(frame.data, frame.width, frame.height, { inversionAttempts: 'attemptBoth' })?.data || undefined;
}

/** The best decoder this browser has (`prefer` forces one, for tests). */
export async function qrDecoder(prefer?: 'native' | 'library'): Promise<QrDecoder> {
  if (prefer !== 'library') {
    const native = await nativeDecoder();
    if (native) return native;
  }
  return libraryDecoder();
}
