/**
 * The conversation both search benchmarks index (search.bench.ts in Node, search-browser.bench.ts
 * in Chromium): 10,000 texts over 20 chats from a seeded generator, so every run and both arms
 * search the same words. A vocabulary of 3,000 made-up words used Zipf-like, a few accented
 * syllables, and one message in a thousand holding the rare word "marmalade". Pure data; knows
 * nothing of storage.
 */
import { asUsername } from '../../src/lib/codec/username';
import { incomingKey } from '../../workers/storage/message-repo';
import type { MessageRecord } from '../../workers/storage/schema';

export const MESSAGES = 10_000;
export const CHATS = 20;
export const RARE = 'marmalade';

/** A seeded generator (mulberry32): the same conversation every run. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = rng(42);
const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'te', 'vo', 'bri', 'cha', 'dor', 'fen', 'gul', 'hap', 'jin', 'qua', 'zé', 'crè', 'pîn', 'öl'];
export const vocab = Array.from({ length: 3000 }, () => Array.from({ length: 2 + Math.floor(rand() * 3) }, () => syllables[Math.floor(rand() * syllables.length)]).join(''));
const word = () => vocab[Math.floor(vocab.length * rand() ** 2.5)]!;
const sentence = (n: number) => Array.from({ length: n }, word).join(' ');

/** The chat of message `i`. */
export function chatOf(i: number): string {
  return `friend${i % CHATS}`;
}

/** Message `i` of the conversation (call in order 0..MESSAGES-1: the words come from one stream). */
export function message(i: number, now: number, chat = chatOf(i)): MessageRecord {
  const username = asUsername(chat);
  const sentAt = now - (MESSAGES - i) * 60_000;
  const id = `seed${i.toString(16).padStart(28, '0')}`;
  const body = `${sentence(4 + Math.floor(rand() * 14))}${i % 1000 === 7 ? ` ${RARE}` : ''}`;
  return i % 2 === 0
    ? { key: id, id, username, direction: 'out', body, sentAt, receivedAt: sentAt, status: 'read' }
    : { key: incomingKey(username, id), id, username, direction: 'in', body, sentAt, receivedAt: sentAt, status: 'received', read: true };
}

/** The query shapes, alternated round by round: a rare word, a common prefix, two words, one letter. */
export const queries: Record<string, string> = { rare: RARE, prefix: vocab[5]!.slice(0, 3), twoWords: `${vocab[1]} ${vocab[20]!.slice(0, 2)}`, oneLetter: 'k' };
