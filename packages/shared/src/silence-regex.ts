import { RE2JS } from 're2js';

/** Longest `=~` / `!~` pattern a silence may carry, in characters. */
export const SILENCE_REGEX_MAX_LENGTH = 256;

/** A silence regex, compiled once: `test` matches the whole value. */
export interface SilenceRegex {
  test(value: string): boolean;
}

/**
 * Compile a silence matcher's regular expression with RE2 semantics (the
 * re2js port: linear time in the input, whatever the pattern; no
 * backreferences or lookaround), anchored to the whole value as
 * Alertmanager does. A hostile pattern such as `(a+)+$` cannot stall the
 * alerter. Throws an Error naming what is wrong for a pattern that is too
 * long or not valid RE2 syntax.
 */
export function compileSilenceRegex(src: string): SilenceRegex {
  if (src.length > SILENCE_REGEX_MAX_LENGTH) {
    throw new Error(
      `regular expression is ${src.length} characters, over the limit of ${SILENCE_REGEX_MAX_LENGTH}`,
    );
  }
  let re: RE2JS;
  try {
    RE2JS.compile(src); // errors quote the pattern as given, not the anchored form
    re = RE2JS.compile(`^(?:${src})$`);
  } catch (err) {
    throw new Error(`invalid regular expression (RE2 syntax): ${(err as Error).message}`, {
      cause: err,
    });
  }
  return { test: (value) => re.matches(value) };
}
