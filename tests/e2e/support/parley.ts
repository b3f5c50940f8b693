/**
 * Helpers for multi-user browser tests: one browser context per person (separate IndexedDB,
 * service worker and WebSocket, like separate devices), unique usernames per run so tests never
 * collide on the shared host, and the few UI steps every test repeats — all located by role and
 * accessible name, the way a screen-reader user finds them.
 */
import { expect, type Browser, type BrowserContext, type Locator, type Page } from '@playwright/test';
import { installGuard, type Guard } from './guard';

/** A short per-run suffix; usernames allow [a-z0-9_.], 3–32 chars. */
const RUN = `${Date.now().toString(36).slice(-5)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
let counter = 0;

export function uniqueName(base: string): string {
  return `${base}_${RUN}${(counter++).toString(36)}`;
}

export interface Person {
  name: string;
  context: BrowserContext;
  page: Page;
  guard: Guard;
}

export async function openPerson(
  browser: Browser,
  base: string,
  viewport = { width: 1280, height: 800 },
  colorScheme: 'light' | 'dark' = 'light',
  /** Another way to the host (support/host-proxy.ts); the test's own base URL by default. */
  baseURL?: string
): Promise<Person> {
  const context = await browser.newContext({ viewport, colorScheme, ...(baseURL ? { baseURL } : {}) });
  const page = await context.newPage();
  const guard = await installGuard(page);
  return { name: uniqueName(base), context, page, guard };
}

/**
 * Alice and Bob, registered, each with a chat open to the other, and `opener` from Bob in Alice's
 * chat (so neither is a message request for the other, P42). Pushed onto `people` for closing.
 */
export async function acquainted(browser: Browser, people: Person[], opener: string): Promise<[Person, Person]> {
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob');
  people.push(alice, bob);
  for (const p of [alice, bob]) await register(p);
  await startChat(alice, bob.name);
  await startChat(bob, alice.name);
  await send(bob, alice.name, opener);
  return [alice, bob];
}

/** Onboarding: type the name, wait for the live availability check, create the account. */
export async function register(p: Person): Promise<void> {
  await p.page.goto('/');
  await expect(p.page.getByRole('heading', { name: 'Welcome to Parley' })).toBeVisible();
  await p.page.getByLabel('Username').fill(p.name);
  await expect(p.page.getByText(`✓ ${p.name} is available`)).toBeVisible();
  await p.page.getByRole('button', { name: 'Create account' }).click();
  // DESIGN.md §7: the recovery step follows onboarding; most tests choose "Later" (restore.spec.ts sets one).
  await expect(p.page.getByRole('heading', { name: 'Protect your account' })).toBeVisible({ timeout: 30_000 });
  await p.page.getByRole('button', { name: 'Later' }).click();
  await expect(p.page.getByRole('heading', { name: 'Chats', level: 1 })).toBeVisible({ timeout: 30_000 });
  await expect(p.page).toHaveURL(/\/chats$/);
}

/** One registered person per base name, each in its own context, added to `people` (closed after the test). */
export async function registered(browser: Browser, people: Person[], ...bases: string[]): Promise<Person[]> {
  const out: Person[] = [];
  for (const base of bases) {
    const p = await openPerson(browser, base);
    people.push(p);
    out.push(p);
    await register(p);
  }
  return out;
}

/**
 * `from` writes first, `to` presses Accept on the request (P42) and answers: each then holds the
 * other's profile key, so receipts and typing notices go sealed (P41).
 */
export async function acceptedChat(from: Person, to: Person, first = 'Hello', answer = 'Hi'): Promise<void> {
  await startChat(from, to.name);
  await send(from, to.name, first);
  await openChat(to, from.name);
  const accept = to.page.getByRole('button', { name: 'Accept', exact: true });
  await accept.click();
  await expect(accept).toHaveCount(0);
  await send(to, from.name, answer);
  await expect(bubbles(from.page, to.name)).toHaveText([new RegExp(escaped(first)), new RegExp(escaped(answer))], { timeout: 30_000 });
}

const escaped = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Starts (or opens) the chat with `other` through "New chat". */
export async function startChat(p: Person, other: string): Promise<void> {
  const newChat = p.page.getByRole('link', { name: 'New chat', exact: true });
  // On a phone the chat list (and its "New chat") is a screen of its own.
  if (!(await newChat.isVisible())) await p.page.getByRole('link', { name: 'Back to chats' }).click();
  await newChat.click();
  await p.page.getByLabel('Their username').fill(other);
  await p.page.getByRole('button', { name: 'Start chat' }).click();
  await expect(conversationTitle(p.page, other)).toBeVisible();
}

/**
 * The address of `other`'s chat as the chat list links it (SECURITY.md P46: `/chat/<route>`, the
 * name sealed under a vault key, so tests cannot write it themselves). Active, archived or request.
 */
export async function chatHref(page: Page, other: string): Promise<string> {
  const link = page
    .getByRole('list', { name: /^(Conversations|Message requests|Archived chats)$/ })
    .getByRole('link', { name: new RegExp(`^${escape(other)}\\b`) });
  const href = await link.getAttribute('href');
  if (!href?.startsWith('/chat/')) throw new Error(`no chat with ${other} in the list`);
  return href;
}

/** Opens an existing chat from the chat list and waits for its history to load. */
export async function openChat(p: Person, other: string): Promise<void> {
  await chatRow(p.page, other).click();
  await expect(conversationTitle(p.page, other)).toBeVisible();
  await expect(messageLog(p.page, other)).toBeVisible();
}

export function conversationTitle(page: Page, other: string): Locator {
  return page.getByRole('heading', { name: other, level: 1 });
}

export function chatRow(page: Page, other: string): Locator {
  // P42: a stranger's first message puts their chat under "Message requests".
  return page.getByRole('list', { name: /^(Conversations|Message requests)$/ }).getByRole('link', { name: new RegExp(`^${escape(other)}\\b`) });
}

export function messageLog(page: Page, other: string): Locator {
  return page.getByRole('log', { name: `Messages with ${other}` });
}

export function bubbles(page: Page, other: string): Locator {
  return messageLog(page, other).getByTestId('message');
}

/** Types `text` into the composer and sends it with Enter. */
export async function send(p: Person, other: string, text: string): Promise<void> {
  const box = p.page.getByRole('textbox', { name: `Message ${other}` });
  await box.fill(text);
  await box.press('Enter');
  await expect(box).toHaveValue('');
}

/** The text bodies of the conversation, oldest first. */
export async function texts(page: Page, other: string): Promise<string[]> {
  return bubbles(page, other).locator('.text').allTextContents();
}

export async function expectClean(p: Person): Promise<void> {
  expect(await p.guard.problems(p.page)).toEqual([]);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
