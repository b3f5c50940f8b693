/**
 * Engine test harness: users as Engine instances on fake-indexeddb, wired through one in-memory
 * host. Each test file imports 'fake-indexeddb/auto' first; every engine gets its own database.
 */
import { Engine, type EngineOptions } from '../../workers/engine/engine';
import { memoryLocks } from '../../workers/engine/lock';
import { MemoryHost } from '../../workers/engine/memory-host';
import type { MessageView } from '../../src/lib/vault/views';

let counter = 0;

export interface User {
  name: string;
  engine: Engine;
  dbName: string;
}

export async function openUser(host: MemoryHost, name: string, extra: Partial<EngineOptions> = {}, dbName?: string): Promise<User> {
  const db = dbName ?? `vault-${name}-${process.pid}-${counter++}`;
  const engine = await Engine.open({ transport: host.transport(), dbName: db, locks: memoryLocks(), ...extra });
  return { name, engine, dbName: db };
}

export async function newUser(host: MemoryHost, name: string, extra: Partial<EngineOptions> = {}): Promise<User> {
  const u = await openUser(host, name, extra);
  await u.engine.createAccount(name);
  u.engine.connect();
  return u;
}

/** Waits until every engine is idle twice in a row (pushes hop between them by microtasks). */
/** New users on `host`, registered one after another (their order is the names'). */
export async function newUsers(host: MemoryHost, ...names: string[]): Promise<User[]> {
  const out: User[] = [];
  for (const n of names) out.push(await newUser(host, n));
  return out;
}

export async function settle(...users: User[]): Promise<void> {
  for (let round = 0; round < 3; round++) for (const u of users) await u.engine.settle();
}

export async function texts(u: User, chat: string): Promise<string[]> {
  return (await u.engine.listMessages(chat)).flatMap((m) => (m.kind === 'text' ? [m.text] : []));
}

/** The status of the message `id` in a chat's list, if it is a text. */
export function statusOf(list: readonly MessageView[], id: string): string | undefined {
  const m = list.find((x) => x.id === id);
  return m?.kind === 'text' ? m.status : undefined;
}

export async function closeAll(...users: User[]): Promise<void> {
  for (const u of users) await u.engine.close();
}

/** An opened file's bytes: the vault hands a Blob when it streamed the download (ranged-download.ts). */
export async function fileBytes(b: Uint8Array | Blob): Promise<Uint8Array> {
  return b instanceof Blob ? new Uint8Array(await b.arrayBuffer()) : b;
}
