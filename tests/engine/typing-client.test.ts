/**
 * The page's half of typing indicators (src/lib/client/typing/; README "Typing indicators"):
 * when our composer sends "started"/"stopped" (Signal's throttle: start on typing, again every
 * 10 s while typing, stop after 3 s idle or when the box empties; a sent message stops silently),
 * and how long "typing…" shows (cleared by "stopped", by their message, or 15 s without refresh).
 * Driven by a hand-stepped clock, not by real time.
 */
import { describe, expect, test } from 'vitest';
import { IDLE_MS, REPEAT_MS, TypingSender } from '../../src/lib/client/typing/typing-sender';
import { SHOW_MS, TypingBoard } from '../../src/lib/client/typing/typing-board';
import type { MessageView } from '../../src/lib/vault/views';
import type { Username } from '../../src/lib/codec/username';

/** A clock and timers that move only when told to. */
function manualTime() {
  let now = 1_000_000;
  let next = 1;
  const due = new Map<number, { at: number; f: () => void }>();
  return {
    now: () => now,
    set: (f: () => void, ms: number) => {
      const id = next++;
      due.set(id, { at: now + ms, f });
      return id;
    },
    clear: (h: unknown) => void due.delete(h as number),
    advance(ms: number) {
      const end = now + ms;
      for (;;) {
        const first = [...due.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!first) break;
        now = first[1].at;
        due.delete(first[0]);
        first[1].f();
      }
      now = end;
    }
  };
}

const alice = 'alice' as Username;

describe('typing sender throttle', () => {
  test('start on the first keystroke, not again on each; again after 10 s of typing; stopped after 3 s idle', () => {
    const t = manualTime();
    const sent: boolean[] = [];
    const s = new TypingSender((x) => (sent.push(x), true), t);
    s.input(true);
    for (let i = 0; i < 10; i++) {
      t.advance(900);
      s.input(true);
    }
    expect(sent).toEqual([true]);
    t.advance(REPEAT_MS - 9000);
    s.input(true);
    expect(sent).toEqual([true, true]);
    t.advance(IDLE_MS - 1);
    expect(sent).toEqual([true, true]);
    t.advance(1);
    expect(sent).toEqual([true, true, false]);
    t.advance(60_000);
    expect(sent).toEqual([true, true, false]);
  });

  test('emptying the box or leaving the chat stops; sending stops silently; nothing is sent without a keystroke', () => {
    const t = manualTime();
    const sent: boolean[] = [];
    const s = new TypingSender((x) => (sent.push(x), true), t);
    s.stop();
    s.input(false);
    expect(sent).toEqual([]);
    s.input(true);
    s.input(false);
    expect(sent).toEqual([true, false]);
    s.input(true);
    s.sent();
    t.advance(60_000);
    s.stop();
    expect(sent).toEqual([true, false, true]);
    s.input(true);
    s.stop();
    expect(sent).toEqual([true, false, true, true, false]);
  });

  test('a start that did not go (something else queued, offline) is tried again on the next keystroke', async () => {
    const t = manualTime();
    const sent: boolean[] = [];
    let allow = false;
    const s = new TypingSender(async (x) => (sent.push(x), allow), t);
    s.input(true);
    await Promise.resolve();
    await Promise.resolve();
    allow = true;
    t.advance(500);
    s.input(true);
    t.advance(500);
    s.input(true);
    expect(sent).toEqual([true, true]);
  });
});

describe('who is typing', () => {
  const text = (direction: 'in' | 'out'): MessageView => ({ kind: 'text', id: 'x', username: alice, direction, text: 'hi', at: 1 });

  test('shown on "started", cleared after 15 s without a refresh, kept up by a refresh', () => {
    const t = manualTime();
    const b = new TypingBoard(() => undefined, t);
    b.onEvent({ type: 'typing', username: alice, typing: true });
    expect(b.has(alice)).toBe(true);
    t.advance(SHOW_MS - 1000);
    b.onEvent({ type: 'typing', username: alice, typing: true });
    t.advance(SHOW_MS - 1);
    expect(b.has(alice)).toBe(true);
    t.advance(1);
    expect(b.has(alice)).toBe(false);
  });

  test('cleared by "stopped" and by their message, not by ours', () => {
    const t = manualTime();
    const seen: string[][] = [];
    const b = new TypingBoard((s) => seen.push([...s]), t);
    b.onEvent({ type: 'typing', username: alice, typing: true });
    b.onEvent({ type: 'typing', username: alice, typing: false });
    expect(b.has(alice)).toBe(false);
    b.onEvent({ type: 'typing', username: alice, typing: true });
    b.onEvent({ type: 'message', username: alice, id: 'x', message: text('out') });
    expect(b.has(alice)).toBe(true);
    b.onEvent({ type: 'message', username: alice, id: 'x', message: text('in') });
    expect(b.has(alice)).toBe(false);
    expect(seen).toEqual([['alice'], [], ['alice'], []]);
  });
});
