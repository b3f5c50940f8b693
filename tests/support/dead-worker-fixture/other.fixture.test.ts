// Passes unless FIXTURE_FAIL is set.
import { expect, test } from 'vitest';

test('other', () => expect(process.env.FIXTURE_FAIL ? 1 : 2).toBe(2));
