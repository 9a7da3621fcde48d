/**
 * Two shapes of JSON that cost a parser far more than their size suggests,
 * found without parsing: deep nesting (half a million "[" take 50 to 150 ms
 * to parse or to find where they break) and objects with tens of thousands
 * of members (V8 builds them as slow dictionaries: 80,000 keys in a
 * megabyte take 20 to 50 ms). Both sources reject such bodies before
 * JSON.parse sees them, so no body costs the event loop more than a few
 * milliseconds. The scan is one pass over the characters, stopping at the
 * first bound crossed; brackets and colons inside strings do not count.
 */

/**
 * AWS payloads nest fewer than ten levels, but junk nested inside a field
 * nthd does not read must not cost a real notice, so the bound is set by
 * cost: ten thousand levels parse in about 2 ms.
 */
export const MAX_JSON_DEPTH = 10_000;
/** AWS events have tens of members; twenty thousand parse in a few ms. */
export const MAX_JSON_MEMBERS = 20_000;

/**
 * Below this size no shape is costly (64 KiB of "[" parse in about 10 ms),
 * so the scan, a few ms per megabyte, is spent on large bodies only.
 */
const SCAN_FROM_CHARS = 64 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
/** The characters the scan stops at; everything between is skipped natively. */
const STRUCTURE = /["[\]{}:]/g;

/** Why `text` is too costly to parse, or undefined. */
export function costlyJsonShape(text: string): string | undefined {
  if (text.length < SCAN_FROM_CHARS) return undefined;
  let depth = 0;
  let members = 0;
  let at = 0;
  for (;;) {
    STRUCTURE.lastIndex = at;
    const found = STRUCTURE.exec(text);
    if (found === null) return undefined;
    const i = found.index;
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      at = afterString(text, i + 1);
      continue;
    }
    at = i + 1;
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > MAX_JSON_DEPTH) {
        return `nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels`;
      }
    } else if (c === COLON) {
      if (++members > MAX_JSON_MEMBERS) return `has more than ${MAX_JSON_MEMBERS} object members`;
    } else depth--;
  }
}

/** The index after the quote that closes a string whose content starts at `from`. */
function afterString(text: string, from: number): number {
  for (let j = from; ; ) {
    const quote = text.indexOf('"', j);
    if (quote === -1) return text.length;
    // Escaped only by an odd run of backslashes right before it.
    let backslashes = 0;
    for (let b = quote - 1; b >= from && text.charCodeAt(b) === BACKSLASH; b--) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    j = quote + 1;
  }
}
