/**
 * P29 end to end through a real coturn: two Chromium contexts with "Relay calls to hide my IP
 * address" on, against a host started here with TURN_SECRET/TURN_URLS for a coturn started here
 * (tests/support/coturn.ts; Debian package, loopback). The call connects and carries audio, and
 * getStats shows the selected candidate pair is relay <-> relay: neither side ever learned the
 * other's address. The default webServer has no TURN, so this file runs its own host (same build).
 */
import { expect, test as base, type Browser, type Page } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCoturn, type Coturn } from '../support/coturn';
import { freePort } from '../support/free-port';
import { startTethered, type Tethered } from '../support/tethered';
import { expectRising, expectVerified, openCaller, overlay, placeCall } from './support/calls';
import { bubbles, send, startChat, type Person } from './support/parley';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface TurnHost {
  url: string;
  turn: Coturn;
}

const test = base.extend<object, { turnHost: TurnHost }>({
  turnHost: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const turn = await startCoturn();
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'parley-e2e-turn-'));
      let host: Tethered | undefined;
      try {
        host = await startTethered(process.execPath, ['--import', 'tsx', 'src/host/main.ts'], {
          logFile: join(dir, 'host.log'),
          cwd: ROOT,
          env: {
            HOME: process.env.HOME ?? '/root',
            PORT: String(port),
            HOST: '127.0.0.1',
            DATA_DIR: join(dir, 'data'),
            PARLEY_QUIET: '1',
            TURN_SECRET: turn.secret,
            TURN_URLS: turn.urls.join(','),
            TURN_TTL: '600'
          }
        });
        const url = `http://localhost:${port}`;
        await expect.poll(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status, { timeout: 60_000 }).toBe(200);
        await use({ url, turn });
      } finally {
        if (host?.running()) {
          host.signal('SIGTERM');
          await host.exited;
        }
        await turn.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    },
    { scope: 'worker' }
  ],
  baseURL: async ({ turnHost }, use) => use(turnHost.url)
});

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

async function relayOnly(p: Person, other: string): Promise<void> {
  await p.page.getByRole('link', { name: `Safety number and settings for ${other}` }).click();
  await p.page.getByRole('checkbox', { name: /Relay calls to hide my IP address/ }).check();
  await p.page.getByRole('link', { name: 'Back to conversation' }).click();
}

/** Candidate types of the selected pair of the page's newest peer connection, and the relay's address. */
async function selectedPair(page: Page): Promise<{ local?: string; remote?: string; localAddress?: string }> {
  return page.evaluate(async () => {
    const pc = window.__pcs?.at(-1);
    if (!pc) return {};
    const stats = new Map<string, Record<string, unknown>>();
    (await pc.getStats()).forEach((s: Record<string, unknown>) => stats.set(s.id as string, s));
    const transport = [...stats.values()].find((s) => s.type === 'transport' && s.selectedCandidatePairId);
    const pair = transport ? stats.get(transport.selectedCandidatePairId as string) : undefined;
    if (!pair) return {};
    const l = stats.get(pair.localCandidateId as string);
    const r = stats.get(pair.remoteCandidateId as string);
    return { local: l?.candidateType as string, remote: r?.candidateType as string, localAddress: l?.address as string };
  });
}

async function pair(browser: Browser) {
  const alice = await openCaller(browser, 'alice');
  const bob = await openCaller(browser, 'bob');
  people.push(alice, bob);
  await startChat(alice, bob.name);
  await startChat(bob, alice.name);
  return { alice, bob };
}

test('P29 relay-only calls connect through coturn with the host\'s short-lived credentials: relay <-> relay, audio flows', async ({ browser, turnHost }) => {
  const { alice, bob } = await pair(browser);
  await relayOnly(alice, bob.name);
  await relayOnly(bob, alice.name);
  await placeCall(alice, bob.name, 'Voice');
  await expect(overlay(bob.page)).toContainText('Incoming voice call');
  await bob.page.getByRole('button', { name: 'Accept' }).click();
  await expectVerified(alice.page);
  await expectVerified(bob.page);
  await expectRising(alice.page, (r) => r.inAudioPackets);
  await expectRising(bob.page, (r) => r.inAudioPackets);
  for (const p of [alice, bob]) {
    const sel = await selectedPair(p.page);
    expect(sel).toMatchObject({ local: 'relay', remote: 'relay', localAddress: turnHost.turn.ip });
  }
  await alice.page.getByRole('button', { name: 'Hang up' }).click();
  await expect(overlay(bob.page)).toContainText('Call ended');
});

test('P42 P29 with TURN offered, a call with someone we never wrote to is relay-only on our side without the switch; once we wrote, it may go direct', async ({ browser }) => {
  test.setTimeout(120_000);
  const { alice, bob } = await pair(browser);
  // Alice writes to bob (bob is her contact); bob opened the chat but never wrote (alice is not his).
  await send(alice, bob.name, 'call me?');
  await expect(bubbles(bob.page, alice.name).filter({ hasText: 'call me?' })).toBeVisible({ timeout: 30_000 });

  async function call(): Promise<{ alice: Awaited<ReturnType<typeof selectedPair>>; bob: Awaited<ReturnType<typeof selectedPair>> }> {
    await placeCall(alice, bob.name, 'Voice');
    await expect(overlay(bob.page)).toContainText('Incoming voice call');
    await bob.page.getByRole('button', { name: 'Accept' }).click();
    await expectVerified(alice.page);
    await expectRising(bob.page, (r) => r.inAudioPackets);
    const got = { alice: await selectedPair(alice.page), bob: await selectedPair(bob.page) };
    await alice.page.getByRole('button', { name: 'Hang up' }).click();
    await expect(overlay(bob.page)).toContainText('Call ended');
    return got;
  }

  // Bob answered a caller he never wrote to: his side went through the relay, so alice only ever
  // saw the TURN server's address (her own side was free to use any candidate).
  const first = await call();
  expect(first.bob).toMatchObject({ local: 'relay' });
  expect(first.alice).toMatchObject({ remote: 'relay' });

  // Bob replies: each is now the other's contact, and nothing forces the relay any more.
  await send(bob, alice.name, 'sure');
  await expect(bubbles(alice.page, bob.name).filter({ hasText: 'sure' })).toBeVisible({ timeout: 30_000 });
  for (const p of [alice, bob]) await expect(overlay(p.page)).toHaveCount(0, { timeout: 10_000 });
  const second = await call();
  expect(second.bob.local).not.toBe('relay');
  expect(second.alice.remote).not.toBe('relay');
});
