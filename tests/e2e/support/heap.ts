/**
 * What a page or its workers still hold in JavaScript memory (SECURITY.md P46): a V8 heap
 * snapshot taken over the Chrome DevTools Protocol after a full collection, searched for strings.
 * A snapshot lists every live string's characters, so a text found there is reachable (or not yet
 * collected after the forced GC, which for a test is the same failure). HEAP_DUMP_DIR=<dir> keeps
 * each snapshot there, to find what retains a hit (open it in DevTools' Memory panel).
 */
import type { Browser, CDPSession, Page } from '@playwright/test';

interface Target {
  targetId: string;
  type: string;
  url: string;
  browserContextId?: string;
}

/** Which of `needles` occur in the page's JS heap (its main thread). */
export async function pageHeapHolds(page: Page, needles: string[]): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const snapshot = await snapshotOver((method, params) => cdp.send(method as never, params as never) as Promise<unknown>, (listener) => {
      cdp.on('HeapProfiler.addHeapSnapshotChunk' as never, listener as never);
    });
    return found(snapshot, needles);
  } finally {
    await cdp.detach().catch(() => undefined);
  }
}

/**
 * Which of `needles` occur in the heap of any dedicated worker of the page's browser context
 * whose URL contains `urlPart` (the vault worker). Attached through the browser's session, since
 * Playwright opens CDP sessions for pages only. Throws when no such worker runs, so a test cannot
 * pass by finding nothing to search.
 */
export async function workerHeapHolds(browser: Browser, page: Page, urlPart: string, needles: string[]): Promise<string[]> {
  const own = await page.context().newCDPSession(page);
  const { targetInfo } = (await own.send('Target.getTargetInfo')) as { targetInfo: Target };
  await own.detach();
  const cdp = await browser.newBrowserCDPSession();
  try {
    const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: Target[] };
    const workers = targetInfos.filter(
      (t) => t.type === 'worker' && t.url.includes(urlPart) && t.browserContextId === targetInfo.browserContextId
    );
    if (workers.length === 0) throw new Error(`no worker with ${urlPart} in its URL`);
    const hits = new Set<string>();
    for (const worker of workers) for (const hit of await oneWorker(cdp, worker.targetId, needles)) hits.add(hit);
    return [...hits];
  } finally {
    await cdp.detach().catch(() => undefined);
  }
}

async function oneWorker(cdp: CDPSession, targetId: string, needles: string[]): Promise<string[]> {
  const { sessionId } = (await cdp.send('Target.attachToTarget', { targetId, flatten: false })) as { sessionId: string };
  let next = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners: ((params: { chunk: string }) => void)[] = [];
  const onMessage = (event: { sessionId: string; message: string }): void => {
    if (event.sessionId !== sessionId) return;
    const msg = JSON.parse(event.message) as { id?: number; method?: string; params?: unknown; result?: unknown; error?: { message: string } };
    if (msg.id !== undefined) {
      const w = waiting.get(msg.id);
      waiting.delete(msg.id);
      if (msg.error) w?.reject(new Error(msg.error.message));
      else w?.resolve(msg.result);
    } else if (msg.method === 'HeapProfiler.addHeapSnapshotChunk') {
      for (const l of listeners) l(msg.params as { chunk: string });
    }
  };
  cdp.on('Target.receivedMessageFromTarget' as never, onMessage as never);
  const send = (method: string, params?: object): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params: params ?? {} }) }).catch(reject);
    });
  try {
    const snapshot = await snapshotOver(send, (l) => listeners.push(l));
    return found(snapshot, needles);
  } finally {
    cdp.off('Target.receivedMessageFromTarget' as never, onMessage as never);
    await cdp.send('Target.detachFromTarget', { sessionId }).catch(() => undefined);
  }
}

async function snapshotOver(
  send: (method: string, params?: object) => Promise<unknown>,
  onChunk: (listener: (params: { chunk: string }) => void) => void
): Promise<string> {
  const chunks: string[] = [];
  onChunk((p) => chunks.push(p.chunk));
  await send('HeapProfiler.enable');
  await send('HeapProfiler.collectGarbage');
  await send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  await send('HeapProfiler.disable');
  const text = chunks.join('');
  if (!text.includes('"strings"')) throw new Error('the heap snapshot came back empty');
  if (process.env.HEAP_DUMP_DIR) (await import('node:fs')).writeFileSync(`${process.env.HEAP_DUMP_DIR}/${Date.now()}.heapsnapshot`, text);
  return text;
}

/** The snapshot's JSON escapes nothing in plain ASCII words, so a needle is searched as written. */
function found(snapshot: string, needles: string[]): string[] {
  return needles.filter((n) => snapshot.includes(n));
}
