/**
 * A page guard for browser tests (P30, P31): records CSP violations seen by the page, console
 * errors, complaints about the Permissions-Policy header and uncaught exceptions from the page
 * and its workers, and every Worker the page constructs (URL and type), so tests can assert a
 * clean run and a module vault worker.
 */
import type { ConsoleMessage, Page } from '@playwright/test';

export interface Guard {
  /** Problems seen so far: console errors, page errors, CSP violations (page and workers). */
  problems(page: Page): Promise<string[]>;
}

interface Recorded {
  csp: string[];
  workers: { url: string; type: string }[];
}

declare global {
  interface Window {
    __parleyTest?: Recorded;
  }
}

export async function installGuard(page: Page): Promise<Guard> {
  const seen: string[] = [];
  const onConsole = (where: string) => (msg: ConsoleMessage) => {
    if (msg.type() === 'error' || /Content Security Policy|Permissions-Policy/i.test(msg.text())) seen.push(`${where} console: ${msg.text()}`);
  };
  page.on('console', onConsole('page'));
  page.on('pageerror', (e) => seen.push(`page error: ${e.message}`));
  page.on('worker', (w) => {
    w.on('console', onConsole(`worker ${w.url()}`));
  });
  await page.addInitScript(() => {
    const rec: Recorded = { csp: [], workers: [] };
    window.__parleyTest = rec;
    document.addEventListener('securitypolicyviolation', (e) => {
      rec.csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
    });
    const NativeWorker = window.Worker;
    window.Worker = class extends NativeWorker {
      constructor(url: string | URL, options?: WorkerOptions) {
        rec.workers.push({ url: String(url), type: options?.type ?? 'classic' });
        super(url, options);
      }
    };
  });
  return {
    async problems(p: Page) {
      const csp = await p.evaluate(() => window.__parleyTest?.csp ?? ['guard missing']);
      return [...seen, ...csp.map((c) => `CSP violation: ${c}`)];
    }
  };
}

export async function constructedWorkers(page: Page): Promise<{ url: string; type: string }[]> {
  return page.evaluate(() => window.__parleyTest?.workers ?? []);
}
