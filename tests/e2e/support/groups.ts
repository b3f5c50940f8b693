/**
 * Group steps the browser specs share (README "Groups"): the chat-list row of a group, and
 * creating one through "New group" until every member's list shows it.
 */
import { expect, type Locator, type Page } from '@playwright/test';
import type { Person } from './parley';

/** A group's row in the chat list (its name is the row's data-group). */
export function groupRow(page: Page, name: string): Locator {
  return page.locator(`a[data-group="${name}"]`);
}

/** `owner` creates `name` with `members`; resolves once the owner is in it and each member lists it. */
export async function createGroup(owner: Person, name: string, members: readonly Person[]): Promise<void> {
  await owner.page.getByRole('link', { name: 'New group' }).click();
  await owner.page.getByLabel('Group name').fill(name);
  await owner.page.getByLabel("Members' usernames").fill(members.map((m) => m.name).join(', '));
  await owner.page.getByRole('button', { name: 'Create group' }).click();
  await expect(owner.page.getByRole('heading', { name, level: 1 })).toBeVisible({ timeout: 30_000 });
  for (const p of members) await expect(groupRow(p.page, name)).toContainText(`Group · ${members.length + 1}`, { timeout: 30_000 });
}

/**
 * `p` accepts the group request `name` that `adder`, a stranger to them, made by adding them
 * (SECURITY.md P42: no receipts until then), and goes back to the chat list, so nothing in the
 * group is read by being on screen.
 */
export async function acceptGroupRequest(p: Person, name: string, adder: Person): Promise<void> {
  await groupRow(p.page, name).click();
  const bar = p.page.getByRole('region', { name: `Group request from ${adder.name}`, exact: true });
  await bar.getByRole('button', { name: 'Accept', exact: true }).click();
  await expect(bar).toHaveCount(0);
  await p.page.goto('/chats');
  await expect(groupRow(p.page, name)).toBeVisible({ timeout: 30_000 });
}
