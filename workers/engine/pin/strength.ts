/**
 * The passphrase strength estimate (SECURITY.md P38): zxcvbn-ts with its common and English
 * dictionaries, run here in the vault worker so the secret never meets the main thread's code and
 * the dictionaries (about 1.6 MB before compression) load only when someone checks a passphrase:
 * a separate chunk, imported on first use, never part of the app's start.
 *
 * Returns log10 of the estimated guesses; the acceptance rule is secret-policy.ts. The username
 * is passed as a user input, so a passphrase built on it scores what it is worth.
 */
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';

let factory: Promise<ZxcvbnFactory> | undefined;

function estimator(): Promise<ZxcvbnFactory> {
  factory ??= (async () => {
    const [{ ZxcvbnFactory }, common, en] = await Promise.all([import('@zxcvbn-ts/core'), import('@zxcvbn-ts/language-common'), import('@zxcvbn-ts/language-en')]);
    return new ZxcvbnFactory({
      translations: en.translations,
      graphs: common.adjacencyGraphs,
      dictionary: { ...common.dictionary, ...en.dictionary },
      useLevenshteinDistance: true
    });
  })().catch((e: unknown) => {
    factory = undefined;
    throw e;
  });
  return factory;
}

/** log10 of the guesses zxcvbn estimates an attacker needs for `secret`. */
export async function estimateGuessesLog10(secret: string, userInputs: readonly string[] = []): Promise<number> {
  const z = await estimator();
  return z.check(secret, [...userInputs]).guessesLog10;
}
