/**
 * The part of the `web-push` package (web-push-libs/web-push, MIT) the host uses: VAPID key
 * generation and the signed request details of a push (RFC 8030, RFC 8292). The package ships no
 * types; these follow its README and src/web-push-lib.js.
 */
declare module 'web-push' {
  interface RequestDetails {
    method: 'POST';
    headers: Record<string, string | number>;
    body: Buffer | null;
    endpoint: string;
  }
  interface RequestOptions {
    vapidDetails: { subject: string; publicKey: string; privateKey: string };
    TTL?: number;
    urgency?: 'very-low' | 'low' | 'normal' | 'high';
    topic?: string;
  }
  const webpush: {
    generateVAPIDKeys(): { publicKey: string; privateKey: string };
    generateRequestDetails(subscription: { endpoint: string }, payload: null, options: RequestOptions): RequestDetails;
  };
  export default webpush;
}
